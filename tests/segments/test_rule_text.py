"""One rule shape on disk: `dump_rule`/`load_rule` round-trip every tree, every pydantic dump
writes the same contract JSON, and every place that stores a rule gives back the same tree."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from sqlalchemy import Engine, select

from minicrm_desktop.models.campaign import Channel, campaigns_table
from minicrm_desktop.models.rules import RuleError, RuleGroup, dump_rule, load_rule, parse_rule
from minicrm_desktop.models.segment import segments_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.launch import CampaignDraft, create_campaign
from minicrm_desktop.services.segments.saved import (
    create_segment,
    duplicate_segment,
    find_segment,
    get_segment,
    update_segment,
)

from .conftest import PROPERTY_SETTINGS, cond, where
from .strategies import trees

#: NOT at the root, in the middle and at the bottom, around every kind of value.
DEEP_NOT = {"combinator": "or", "not": True, "rules": [
    cond("total_spend", ">", 5000),
    {"combinator": "AND", "rules": [
        cond("city", "in", ["Pune", "Mumbai"]),
        {"combinator": "or", "not": True, "rules": [
            cond("tags", "contains", " VIP "),
            cond("last_order_date", "notWithinLast", {"amount": 6, "unit": "months"}),
            cond("phone", "null"),
            cond("signup_date", "between", ["2026-01-01", "2026-01-31T10:00:00Z"]),
        ]},
    ]},
    {"combinator": "and", "not": True, "rules": []},
]}


def groups(data: Any) -> list[dict[str, Any]]:
    """Every group of a JSON rule tree, the root first."""
    out = [data]
    for item in data["rules"]:
        if "rules" in item:
            out += groups(item)
    return out


@PROPERTY_SETTINGS
@given(doc=trees())
def test_load_rule_reads_back_what_dump_rule_wrote(doc: dict[str, Any]) -> None:
    tree = parse_rule(doc)
    for indent in (None, 2):
        text = dump_rule(tree, indent=indent)
        assert load_rule(text) == tree
        data = json.loads(text)
        assert data["version"] == 1
        assert [g["not"] for g in groups(data)] == [bool(g.get("not")) for g in groups(doc)]
        assert all("negated" not in g for g in groups(data))


@PROPERTY_SETTINGS
@given(doc=trees())
def test_every_pydantic_dump_writes_the_contract(doc: dict[str, Any]) -> None:
    """A dump through pydantic, however called, cannot write the field name "negated"."""
    tree = parse_rule(doc)
    assert parse_rule(tree.model_dump()) == tree
    for text in (tree.model_dump_json(), tree.model_dump_json(exclude_none=True),
                 tree.model_dump_json(by_alias=True), tree.model_dump_json(indent=1)):
        assert load_rule(text) == tree
        assert json.loads(text) == json.loads(dump_rule(tree))


def test_the_dump_is_the_contract_json() -> None:
    tree = parse_rule(DEEP_NOT)
    assert json.loads(dump_rule(tree)) == {
        "version": 1, "combinator": "or", "not": True, "rules": [
            {"field": "total_spend", "operator": ">", "value": 5000},
            {"combinator": "and", "not": False, "rules": [
                {"field": "city", "operator": "in", "value": ["Pune", "Mumbai"]},
                {"combinator": "or", "not": True, "rules": [
                    {"field": "tags", "operator": "contains", "value": " VIP "},
                    {"field": "last_order_date", "operator": "notWithinLast",
                     "value": {"amount": 6, "unit": "months"}},
                    {"field": "phone", "operator": "null"},
                    {"field": "signup_date", "operator": "between",
                     "value": ["2026-01-01", "2026-01-31T10:00:00Z"]},
                ]},
            ]},
            {"combinator": "and", "not": True, "rules": []},
        ]}
    assert "\n" not in dump_rule(tree)  # compact for storage
    assert dump_rule(tree, indent=2).startswith('{\n  "version": 1,\n  "combinator": "or",')
    text = dump_rule(parse_rule(where(cond("city", "=", "München"))))
    assert "München" in text  # text stays readable, not \\u-escaped


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "the rule is not valid JSON: Expecting property name enclosed in double "
                      "quotes at line 1 column 2"),
        ("", "the rule is not valid JSON: Expecting value at line 1 column 1"),
        ("[" * 100_000 + "]" * 100_000, "the rule: JSON nested too deeply"),
        ("[]", "rule: expected a group object"),
        ('{"version": 2, "combinator": "and", "rules": []}', "version: version 2 is newer"),
        ('{"combinator": "and", "not": "yes", "rules": []}',
         'not: expected true or false, got "yes"'),
    ],
)
def test_bad_text_is_a_rule_error_naming_the_problem(text: str, reason: str) -> None:
    with pytest.raises(RuleError) as info:
        load_rule(text)
    assert reason in str(info.value)


def test_load_rule_names_its_source_and_skips_a_bom() -> None:
    with pytest.raises(RuleError, match=r"^rule\.json is not valid JSON"):
        load_rule("{", source="rule.json")
    assert load_rule("\ufeff" + json.dumps(DEEP_NOT)) == parse_rule(DEEP_NOT)


def stored(engine: Engine, table: Any, row_id: int) -> str:
    with engine.connect() as conn:
        text: str = conn.execute(
            select(table.c.rule_json).where(table.c.id == row_id)).scalar_one()
    return text


def test_every_store_gives_back_the_tree_it_was_given(engine: Engine) -> None:
    tree = parse_rule(DEEP_NOT)
    segment = create_segment(engine, "Deep", tree, actor=LOCAL_ADMIN)
    assert get_segment(engine, segment.id).rule == tree
    assert stored(engine, segments_table, segment.id) == dump_rule(tree)
    other = parse_rule({**DEEP_NOT, "not": False})
    update_segment(engine, segment.id, rule=other, actor=LOCAL_ADMIN)
    assert get_segment(engine, segment.id).rule == other
    copy = duplicate_segment(engine, segment.id, actor=LOCAL_ADMIN)
    found = find_segment(engine, copy.name)
    assert found is not None
    assert found.rule == other

    draft = CampaignDraft(name="Deep", channel=Channel.EMAIL, rule=tree, variants=["Hi"])
    campaign_id = create_campaign(engine, draft, actor=LOCAL_ADMIN)
    assert stored(engine, campaigns_table, campaign_id) == dump_rule(tree)
    assert load_rule(stored(engine, campaigns_table, campaign_id)) == tree


def test_a_campaign_refuses_a_rule_its_launch_could_not_read(engine: Engine) -> None:
    """A tree built in code skips the validator; storing it would make an unlaunchable
    campaign, so it is refused up front with the validator's message."""
    bad = RuleGroup(combinator="and", rules=[
        parse_rule(where(cond("visits", ">", 1))).rules[0].model_copy(update={"value": "x"})])
    draft = CampaignDraft(name="Bad", channel=Channel.EMAIL, rule=bad, variants=["Hi"])
    with pytest.raises(RuleError, match='rules\\[0\\].value: expected'):
        create_campaign(engine, draft, actor=LOCAL_ADMIN)
    with engine.connect() as conn:
        assert conn.execute(select(campaigns_table.c.id)).first() is None
