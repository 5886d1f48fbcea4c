"""The offline parser: sentences checked by the audience their rule selects, on SQLite and
MariaDB; and the sentences it must refuse, with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.ai.assistant import load_vocabulary
from minicrm_desktop.services.ai.errors import NotUnderstood
from minicrm_desktop.services.ai.offline_parser import Vocabulary, parse_sentence
from minicrm_desktop.services.segments import iter_audience_ids
from tests.segments.population import insert_people

from .people import AS_OF, CITIES, TAGS, people
from .sentences import REFUSED, UNDERSTOOD

WORDS = Vocabulary.of(CITIES, TAGS)


def audience(engine: Engine, rule: Any) -> frozenset[int]:
    tree = parse_rule(rule) if isinstance(rule, dict) else rule
    return frozenset(i for chunk in iter_audience_ids(engine, tree, as_of=AS_OF) for i in chunk)


def test_the_table_is_big_enough() -> None:
    assert len(UNDERSTOOD) >= 60
    assert len({s for s, _ in UNDERSTOOD}) == len(UNDERSTOOD)


def test_sentences_select_the_right_audience(engine: Engine) -> None:
    ids = insert_people(engine, people())
    everyone = frozenset(ids.values())
    vocabulary = load_vocabulary(engine)
    assert set(vocabulary.cities) == set(CITIES)
    assert set(vocabulary.tags) == set(TAGS)
    right, wrong, telling = 0, [], 0
    for sentence, expected_rule in UNDERSTOOD:
        expected = audience(engine, expected_rule)
        telling += 0 < len(expected) < len(everyone)
        try:
            got = audience(engine, parse_sentence(sentence, vocabulary, AS_OF))
        except NotUnderstood as exc:
            wrong.append(f"{sentence!r}: refused ({exc})")
            continue
        if got == expected:
            right += 1
        else:
            wrong.append(f"{sentence!r}: {len(got)} customers, expected {len(expected)}")
    # The population tells rules apart: most expected audiences are neither empty nor all.
    assert telling >= 0.85 * len(UNDERSTOOD)
    assert right >= 0.9 * len(UNDERSTOOD), "\n".join(wrong)
    assert not wrong, "\n".join(wrong)  # today every one is right; keep it so


@pytest.mark.parametrize(("sentence", "reason"), REFUSED)
def test_refuses_what_it_does_not_understand(sentence: str, reason: str) -> None:
    with pytest.raises(NotUnderstood) as caught:
        parse_sentence(sentence, WORDS, AS_OF)
    assert reason.lower() in str(caught.value).lower()


def test_without_known_cities_a_city_is_not_guessed() -> None:
    with pytest.raises(NotUnderstood, match="cities: none yet"):
        parse_sentence("customers from Mumbai", Vocabulary(), AS_OF)


def test_the_same_sentence_gives_the_same_rule() -> None:
    sentence = "vip customers in Mumbai or Pune who spent over 5k"
    first = parse_sentence(sentence, WORDS, AS_OF).to_json()
    assert all(parse_sentence(sentence, WORDS, AS_OF).to_json() == first for _ in range(5))


def test_display_names_come_from_the_database() -> None:
    rule = parse_sentence("customers in NEW DELHI", WORDS, AS_OF).to_json()
    assert rule["rules"] == [{"field": "city", "operator": "=", "value": "New Delhi"}]


@pytest.mark.parametrize("tail", [" and likes cricket", ", or whose dog is called Rex",
                                  " but only on Tuesdays"])
def test_a_sentence_understood_only_in_part_is_refused(tail: str) -> None:
    """Never a rule for part of a sentence: what it does not understand stops it."""
    for sentence, _rule in UNDERSTOOD:
        with pytest.raises(NotUnderstood):
            parse_sentence(sentence + tail, WORDS, AS_OF)


def test_messages_quote_the_sentence_as_written() -> None:
    with pytest.raises(NotUnderstood, match='"Atlantis" is not a city'):
        parse_sentence("Customers in   Atlantis", WORDS, AS_OF)
