"""Migration 0009: rules stored in pydantic's field-name shape ("negated") mean what they
meant once upgraded, so a campaign created before the fix launches to its segment's audience.

`old_dump` writes exactly what `RuleGroup.model_dump_json()` wrote before the fix (checked
against that code while writing this test); with `exclude_none=True` it is what campaigns
stored.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from sqlalchemy import Engine, insert, select

from minicrm_desktop.models.base import utcnow
from minicrm_desktop.models.campaign import campaigns_table, deliveries_table, variants_table
from minicrm_desktop.models.rules import Condition, RelativePeriod, dump_rule, load_rule, parse_rule
from minicrm_desktop.models.segment import segments_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.launch import launch_campaign
from minicrm_desktop.services.core.migrate import (
    MIGRATIONS_DIR,
    current_revision,
    downgrade_to,
    head_revision,
    upgrade_to_head,
)
from minicrm_desktop.services.segments import iter_audience_ids
from minicrm_desktop.services.segments.saved import get_segment
from tests.segments.conftest import AS_OF, PROPERTY_SETTINGS, cond, where
from tests.segments.population import Person, insert_people
from tests.segments.reference import matches
from tests.segments.strategies import random_people, trees

#: The issue's segment: spent over ₹5,000 and not tagged vip.
NOT_VIP = where(cond("total_spend", ">", 5000),
                {"combinator": "and", "not": True, "rules": [cond("tags", "contains", "vip")]})
#: NOT at the root and two levels down, with a no-value operator (a null in the full dump).
DEEP = {"combinator": "or", "not": True, "rules": [
    cond("city", "null"),
    {"combinator": "and", "rules": [
        cond("visits", ">=", 2),
        {"combinator": "or", "not": True, "rules": [
            cond("tags", "contains", "newsletter"),
            cond("last_order_date", "withinLast", {"amount": 6, "unit": "months"})]}]}]}


def _old(node: Any, exclude_none: bool) -> dict[str, Any]:
    if isinstance(node, Condition):
        value = node.value.model_dump() if isinstance(node.value, RelativePeriod) else node.value
        out: dict[str, Any] = {"field": node.field, "operator": node.operator}
        if value is not None or not exclude_none:
            out["value"] = value
        return out
    out = {"combinator": node.combinator, "negated": node.negated,
           "rules": [_old(r, exclude_none) for r in node.rules]}
    if not exclude_none:
        out["version"] = None
    return out


def old_dump(doc: dict[str, Any], *, exclude_none: bool = True) -> str:
    return json.dumps(_old(parse_rule(doc), exclude_none), ensure_ascii=False,
                      separators=(",", ":"))


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "rule_shape_0009", MIGRATIONS_DIR / "versions" / "0009_rule_shape.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MIGRATION = _migration()


@PROPERTY_SETTINGS
@given(doc=trees())
def test_the_old_shape_is_rewritten_to_mean_the_same_tree(doc: dict[str, Any]) -> None:
    tree = parse_rule(doc)
    for exclude_none in (True, False):
        old = old_dump(doc, exclude_none=exclude_none)
        new = MIGRATION.rewrite(old)
        assert load_rule(new) == tree
        assert json.loads(new) == json.loads(dump_rule(tree))
    # A rule already in the contract's shape is left byte for byte.
    assert MIGRATION.rewrite(dump_rule(tree)) == dump_rule(tree)


@pytest.mark.parametrize("text", [
    None, "", "{", "[]", "{}", '{"combinator": "and"}', '"rules"',
    '{"combinator": "and", "negated": "yes", "rules": []}',
    '{"combinator": "and", "not": true, "negated": false, "rules": []}',
    "[" * 100_000 + "]" * 100_000,
])
def test_what_cannot_be_read_is_refused_not_guessed(text: str | None) -> None:
    with pytest.raises(MIGRATION.Unreadable):
        MIGRATION.rewrite(text)


PEOPLE = random_people(seed=12, n=80)


@pytest.fixture
def at_0008(engine: Engine) -> Iterator[tuple[Engine, dict[int, Person]]]:
    """The database at 0008 with customers in it; left at head whatever happens."""
    downgrade_to(engine, "0008")
    assert current_revision(engine) == "0008"
    try:
        ids = insert_people(engine, PEOPLE)
        yield engine, {ids[p.email]: p for p in PEOPLE}
    finally:
        upgrade_to_head(engine)


def expected(doc: dict[str, Any], people: dict[int, Person]) -> set[int]:
    return {i for i, p in people.items() if matches(doc, p, AS_OF)}


def add_segment(engine: Engine, name: str, rule_json: str) -> int:
    now = utcnow()
    with engine.begin() as conn:
        key = conn.execute(insert(segments_table).values(
            name=name, name_norm=name.lower(), description="", rule_json=rule_json,
            author="old@x.in", created_at=now, updated_at=now)).inserted_primary_key
    assert key is not None
    return int(key[0])


def add_campaign(engine: Engine, name: str, rule_json: str, segment_id: int | None) -> int:
    with engine.begin() as conn:
        key = conn.execute(insert(campaigns_table).values(
            uid=str(uuid.uuid4()), name=name, channel="email", objective="",
            rule_json=rule_json, segment_id=segment_id, status="draft", as_of=AS_OF,
            created_at=utcnow(), vendor_json="{}")).inserted_primary_key
        assert key is not None
        conn.execute(insert(variants_table).values(campaign_id=key[0], label="A",
                                                   template="Hi {first_name|there}"))
    return int(key[0])


def stored(engine: Engine, table: Any, row_id: int) -> str:
    with engine.connect() as conn:
        text: str = conn.execute(
            select(table.c.rule_json).where(table.c.id == row_id)).scalar_one()
    return text


def frozen(engine: Engine, campaign_id: int) -> set[int]:
    d = deliveries_table.c
    with engine.connect() as conn:
        return set(conn.execute(select(d.customer_id).where(d.campaign_id == campaign_id))
                   .scalars())


def test_campaigns_stored_before_the_fix_launch_to_their_segments_audience(
    at_0008: tuple[Engine, dict[int, Person]], caplog: pytest.LogCaptureFixture,
) -> None:
    engine, people = at_0008
    not_vip = expected(NOT_VIP, people)
    spenders = expected(where(cond("total_spend", ">", 5000)), people)
    assert 0 < len(not_vip) < len(spenders)  # some spenders are VIPs: the NOT matters
    deep = expected(DEEP, people)
    assert 0 < len(deep) < len(people)

    old_segment = add_segment(engine, "Big spenders, not VIP", old_dump(NOT_VIP))
    good_segment = add_segment(engine, "Deep", dump_rule(parse_rule(DEEP)))
    campaigns = {
        "not vip": add_campaign(engine, "Not VIP", old_dump(NOT_VIP), old_segment),
        "deep, full dump": add_campaign(engine, "Deep full",
                                        old_dump(DEEP, exclude_none=False), good_segment),
        "deep": add_campaign(engine, "Deep", old_dump(DEEP), good_segment),
    }
    unreadable = add_campaign(engine, "Broken", '{"combinator": "and", "negated": 1}', None)
    good_text = stored(engine, segments_table, good_segment)

    with caplog.at_level(logging.WARNING, logger="minicrm_desktop.migrations"):
        upgrade_to_head(engine)
    assert current_revision(engine) == head_revision(engine)

    # The segments mean what they meant; the one already in shape is untouched.
    assert get_segment(engine, old_segment).rule == parse_rule(NOT_VIP)
    assert stored(engine, segments_table, good_segment) == good_text
    # Each campaign's rule is now its segment's rule, and its launch freezes that audience.
    for key, campaign_id in campaigns.items():
        doc = NOT_VIP if key == "not vip" else DEEP
        assert load_rule(stored(engine, campaigns_table, campaign_id)) == parse_rule(doc), key
        summary = launch_campaign(engine, campaign_id, actor=LOCAL_ADMIN)
        want = expected(doc, people)
        assert frozen(engine, campaign_id) == want, key
        assert summary.audience == len(want), key
        segment_rule = get_segment(engine, old_segment if key == "not vip" else good_segment).rule
        assert {i for chunk in iter_audience_ids(engine, segment_rule, as_of=AS_OF)
                for i in chunk} == want, key
    # A row that is no rule tree is left as it was, and said so by id.
    assert stored(engine, campaigns_table, unreadable) == '{"combinator": "and", "negated": 1}'
    assert any(f"campaigns row {unreadable}" in r.getMessage() for r in caplog.records)
