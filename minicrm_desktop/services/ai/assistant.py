"""Which engine answers: the model when configured, the offline parser otherwise or when the
model cannot be reached. Plain values in, plain values out: callable from a task or the CLI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from ...models.rules import RuleGroup
from ...models.tables import customers_table, tags_table
from .config import OFFLINE_LABEL, AIConfig
from .errors import AIUnavailable, NotUnderstood
from .offline_parser import NO_SENTENCE, Vocabulary, parse_sentence
from .rule_request import ask_rule

#: Most city names offered to either engine (the most common first).
MAX_CITIES = 500


@dataclass(frozen=True)
class RuleAnswer:
    rule: RuleGroup
    #: Which engine answered: "OpenAI (gpt-4o-mini)" or "Offline parser".
    engine: str
    #: Why the offline parser answered instead of the model, if it did ("" otherwise).
    notice: str = ""


def load_vocabulary(engine: Engine) -> Vocabulary:
    """The city and tag names in the database (names only, no customer)."""
    c, t = customers_table.c, tags_table.c
    with engine.connect() as conn:
        cities = conn.execute(
            select(func.min(c.city))
            .where(c.city_norm.is_not(None), c.city_norm != "")
            .group_by(c.city_norm)
            .order_by(func.count().desc(), func.min(c.city))
            .limit(MAX_CITIES)
        ).scalars().all()
        tags = conn.execute(select(t.name).order_by(t.name_norm)).scalars().all()
    return Vocabulary.of([str(x) for x in cities if x], [str(x) for x in tags if x])


def sentence_to_rule(
    config: AIConfig,
    sentence: str,
    vocabulary: Vocabulary,
    as_of: datetime | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> RuleAnswer:
    """The rule a sentence describes, from the model if configured, else offline."""
    as_of = as_of or datetime.now(UTC)
    if not sentence.strip():
        raise NotUnderstood(NO_SENTENCE)
    if config.use_model:
        try:
            rule = ask_rule(config, sentence, vocabulary, as_of, cancelled)
        except AIUnavailable as exc:
            if not exc.fallback:
                raise
            try:
                rule = parse_sentence(sentence, vocabulary, as_of)
            except NotUnderstood as offline:
                raise NotUnderstood(
                    f"{exc} The offline parser could not help either: {offline}") from None
            return RuleAnswer(rule, OFFLINE_LABEL, f"{exc} The offline parser answered instead.")
        return RuleAnswer(rule, config.model_label)
    return RuleAnswer(parse_sentence(sentence, vocabulary, as_of), OFFLINE_LABEL)
