"""Audience pages, id streams and samples; saved segments' lifecycle."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select

from minicrm_desktop.models import Segment
from minicrm_desktop.models.rules import RuleError, parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.segments import (
    audience_page,
    audience_sample,
    iter_audience_emails,
    iter_audience_ids,
)
from minicrm_desktop.services.segments.saved import (
    SegmentError,
    SegmentNameTaken,
    SegmentNotFound,
    create_segment,
    delete_segment,
    duplicate_segment,
    find_segment,
    get_segment,
    list_segments,
    rename_segment,
    update_segment,
)

from .conftest import AS_OF, audience, cond, where
from .population import Person, insert_people

TREE = parse_rule(where(cond("visits", ">=", 2)))


@pytest.fixture
def many(engine: Engine) -> tuple[Engine, dict[str, int]]:
    people = [Person(f"C{i:03d}@X.in", visits=i % 5, name=f"n{i}") for i in range(120)]
    return engine, insert_people(engine, people)


def test_pages_walk_the_audience_by_id_without_gaps_or_repeats(
    many: tuple[Engine, dict[str, int]],
) -> None:
    engine, _ = many
    seen: list[int] = []
    after = None
    while True:
        page = audience_page(engine, TREE, as_of=AS_OF, after_id=after, limit=7)
        if not page:
            break
        assert len(page) <= 7
        seen += [m.id for m in page]
        after = page[-1].id
    assert seen == sorted(audience(engine, TREE.to_json()))
    assert len(seen) == 72  # visits 2, 3 or 4: three in five


def test_page_rows_are_plain_values(many: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = many
    first = audience_page(engine, TREE, as_of=AS_OF, limit=1)[0]
    assert first.email == "C002@X.in"
    assert first.name == "n2"
    assert first.order_count == 0
    assert audience_sample(engine, TREE, as_of=AS_OF, size=3) == audience_page(
        engine, TREE, as_of=AS_OF, limit=3)


def test_ids_stream_in_bounded_chunks(many: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = many
    chunks = list(iter_audience_ids(engine, TREE, as_of=AS_OF, chunk=10))
    assert all(len(c) <= 10 for c in chunks)
    assert len(chunks) == 8
    flat = [i for c in chunks for i in c]
    assert flat == sorted(flat) == sorted(audience(engine, TREE.to_json()))
    assert list(iter_audience_ids(engine, parse_rule(where(cond("visits", ">", 100))))) == []


def test_emails_stream_sorted_and_lower_cased(many: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = many
    emails = list(iter_audience_emails(engine, TREE, as_of=AS_OF, chunk=9))
    assert emails == sorted(f"c{i:03d}@x.in" for i in range(120) if i % 5 >= 2)


def test_segment_lifecycle(engine: Engine) -> None:
    rule = where(cond("city", "=", "Pune"), cond("total_spend", ">", "5000"))
    made = create_segment(engine, "  Pune big spenders ", rule, description="d", author="asha",
        actor=LOCAL_ADMIN)
    assert made.name == "Pune big spenders"
    assert made.author == "asha"
    assert made.rule == parse_rule(rule)
    assert made.created_at == made.updated_at
    assert get_segment(engine, made.id) == made
    with pytest.raises(SegmentNameTaken):
        create_segment(engine, "PUNE BIG SPENDERS", rule, actor=LOCAL_ADMIN)

    renamed = rename_segment(engine, made.id, "Pune VIPs", actor=LOCAL_ADMIN)
    assert renamed.name == "Pune VIPs"
    assert renamed.rule == made.rule
    assert renamed.updated_at >= made.updated_at
    assert renamed.created_at == made.created_at
    edited = update_segment(engine, made.id, rule=where(cond("city", "=", "Mumbai")),
                            description="now Mumbai", actor=LOCAL_ADMIN)
    assert edited.rule == parse_rule(where(cond("city", "=", "Mumbai")))
    assert edited.name == "Pune VIPs"
    assert edited.description == "now Mumbai"

    copy = duplicate_segment(engine, made.id, actor=LOCAL_ADMIN)
    copy2 = duplicate_segment(engine, made.id, actor=LOCAL_ADMIN)
    assert (copy.name, copy2.name) == ("Pune VIPs (copy)", "Pune VIPs (copy 2)")
    assert copy.rule == edited.rule
    assert copy.id != made.id
    names = [s.name for s in list_segments(engine)]
    assert names == sorted(["Pune VIPs", "Pune VIPs (copy)", "Pune VIPs (copy 2)"], key=str.lower)
    assert find_segment(engine, "pune vips (COPY)") == copy

    delete_segment(engine, copy.id, actor=LOCAL_ADMIN)
    with pytest.raises(SegmentNotFound):
        get_segment(engine, copy.id)
    with pytest.raises(SegmentNotFound):
        delete_segment(engine, copy.id, actor=LOCAL_ADMIN)
    # Editing the original changes neither its copies nor anything saved earlier.
    assert get_segment(engine, copy2.id).rule == edited.rule


def test_segments_store_the_contract_json(engine: Engine) -> None:
    made = create_segment(engine, "s", {"combinator": "OR", "id": "x", "rules": [
        {"field": "tags", "operator": "contains", "value": "VIP", "valueSource": "value"}]},
            actor=LOCAL_ADMIN)
    with engine.connect() as conn:
        stored = conn.execute(select(Segment.rule_json).where(Segment.id == made.id)).scalar_one()
    assert json.loads(stored) == {"version": 1, "combinator": "or", "not": False, "rules": [
        {"field": "tags", "operator": "contains", "value": "VIP"}]}


def test_a_large_tree_is_stored_whole(engine: Engine) -> None:
    big = where(*[cond("name", "doesNotContain", f"{i:04d}" * 20) for i in range(1000)])
    made = create_segment(engine, "big", big, actor=LOCAL_ADMIN)
    assert len(get_segment(engine, made.id).rule.rules) == 1000


def test_bad_input_is_refused(engine: Engine) -> None:
    with pytest.raises(RuleError):
        create_segment(engine, "x", where(cond("visits", ">", "lots")), actor=LOCAL_ADMIN)
    with pytest.raises(SegmentError, match="needs a name"):
        create_segment(engine, "   ", where(), actor=LOCAL_ADMIN)
    with pytest.raises(SegmentError, match="at most 200"):
        create_segment(engine, "n" * 201, where(), actor=LOCAL_ADMIN)
    with pytest.raises(SegmentNotFound):
        rename_segment(engine, 999, "y", actor=LOCAL_ADMIN)
    assert list_segments(engine) == []
