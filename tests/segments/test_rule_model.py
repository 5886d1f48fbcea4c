"""The rule model: what parse_rule accepts, what it refuses and how it says so."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.models.rules import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    RuleError,
    RuleGroup,
    match_all,
    parse_rule,
    rule_json_schema,
)
from minicrm_desktop.models.rules_fields import FIELDS, OPERATORS

from .conftest import PROPERTY_SETTINGS, cond, where
from .strategies import trees

SPEC_EXAMPLE: dict[str, Any] = {
    "combinator": "and",
    "not": False,
    "rules": [
        {"field": "total_spend", "operator": ">", "value": 5000},
        {"field": "last_order_date", "operator": "notWithinLast",
         "value": {"amount": 6, "unit": "months"}},
        {"combinator": "or", "rules": [
            {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
            {"field": "tags", "operator": "contains", "value": "vip"},
        ]},
    ],
}


def error_of(data: Any) -> str:
    with pytest.raises(RuleError) as info:
        parse_rule(data)
    return str(info.value)


def test_the_contract_example_parses_and_round_trips() -> None:
    tree = parse_rule(SPEC_EXAMPLE)
    dumped = tree.to_json()
    assert dumped["version"] == 1
    assert {k: v for k, v in dumped.items() if k != "version"} == SPEC_EXAMPLE | {
        "rules": [*SPEC_EXAMPLE["rules"][:2], {**SPEC_EXAMPLE["rules"][2], "not": False}]
    }
    assert parse_rule(dumped) == tree
    assert parse_rule(json.loads(json.dumps(dumped))).to_json() == dumped


def test_react_querybuilder_extras_are_ignored_and_combinator_is_case_insensitive() -> None:
    tree = parse_rule({
        "id": "root", "combinator": "AND", "rules": [
            {"id": "r1", "field": "city", "operator": "=", "value": "Pune",
             "valueSource": "value"},
            {"id": "g1", "combinator": "Or", "not": True, "rules": []},
        ],
    })
    assert tree.combinator == "and"
    group = tree.rules[1]
    assert isinstance(group, RuleGroup)
    assert group.combinator == "or"
    assert group.negated
    assert "id" not in json.dumps(tree.to_json())


def test_values_are_kept_exactly_as_given() -> None:
    tree = parse_rule(where(cond("total_spend", ">", "5000.50"),
                            cond("signup_date", "=", "2026-05-01T10:00:00+05:30")))
    assert [r["value"] for r in tree.to_json()["rules"]] == ["5000.50", "2026-05-01T10:00:00+05:30"]


def test_match_all_is_the_empty_tree() -> None:
    assert match_all() == parse_rule({"combinator": "and", "rules": []})
    assert match_all().to_json() == {"version": 1, "combinator": "and", "not": False, "rules": []}


def test_null_operators_ignore_any_value() -> None:
    # react-querybuilder keeps the last value typed when the operator becomes null/notNull.
    tree = parse_rule(where({"field": "city", "operator": "null", "value": ""},
                            {"field": "city", "operator": "notNull", "value": None},
                            {"field": "city", "operator": "null", "value": "x"},
                            {"field": "tags", "operator": "notNull", "value": [1, {"a": 2}]}))
    assert tree.to_json()["rules"] == [{"field": "city", "operator": "null"},
                                       {"field": "city", "operator": "notNull"},
                                       {"field": "city", "operator": "null"},
                                       {"field": "tags", "operator": "notNull"}]


def test_a_missing_combinator_means_and() -> None:
    tree = parse_rule({"rules": [cond("city", "=", "Pune"),
                                 {"not": True, "rules": [cond("visits", ">", 1)]}]})
    assert tree.combinator == "and"
    inner = tree.rules[1]
    assert isinstance(inner, RuleGroup)
    assert (inner.combinator, inner.negated) == ("and", True)


@pytest.mark.parametrize(
    "value",
    ["2026-05-01", "2026-05-01T10:00", "2026-05-01T10:00:00", "2026-05-01 10:00:00",
     "2026-05-01T10:00:00.5Z", "2026-05-01T10:00:00+05:30", "2026-05-01 10:00:00-02:00"],
)
def test_the_extended_iso_forms_are_accepted(value: str) -> None:
    assert parse_rule(where(cond("signup_date", ">", value))).rules


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (where(cond("visits", ">", "1"), where(where(cond("total_spend", ">", "abc")))),
         'rules[1].rules[0].rules[0].value: expected a number, got "abc"'),
        (where(cond("total_spend", "contains", "5")),
         'rules[0].operator: "contains" is not an operator of number field "total_spend"'),
        (where(cond("total_spend", ">", "5,000")),
         'rules[0].value: expected a number, got "5,000"'),
        (where(cond("total_spend", ">", True)), "rules[0].value: expected a number, got true"),
        (where(cond("total_spend", ">", 1.234)),
         "rules[0].value: expected an amount with at most 2 decimals, got 1.234"),
        (where(cond("visits", ">", 1.5)), "rules[0].value: expected a whole number, got 1.5"),
        (where(cond("visits", ">", 10**13)), "rules[0].value: number out of range"),
        (where(cond("visits", "between", [5, 1])),
         "rules[0].value: low end is greater than high end in [5, 1]"),
        (where(cond("visits", "between", [5])),
         "rules[0].value: expected a list of two values [low, high], got [5]"),
        (where(cond("signup_date", "between", ["2026-01-02", "2026-01-01"])),
         'rules[0].value: low end is after high end in ["2026-01-02", "2026-01-01"]'),
        (where(cond("signup_date", "between", ["2026-01-01", "soon"])),
         "rules[0].value[1]: expected an ISO 8601 date or date-time"),
        (where(cond("signup_date", "=", "2026-02-30")), "rules[0].value: expected an ISO 8601"),
        (where(cond("last_order_date", "withinLast", {"amount": 0, "unit": "days"})),
         "rules[0].value.amount: expected a positive whole number, got 0"),
        (where(cond("last_order_date", "withinLast", {"amount": 2, "unit": "fortnights"})),
         'rules[0].value.unit: expected "days", "weeks", "months" or "years", got "fortnights"'),
        (where(cond("last_order_date", "withinLast", 6)), "rules[0].value: expected {\"amount\""),
        (where(cond("city", "=", "")), 'rules[0].value: expected a non-empty text (use the "null"'),
        (where(cond("city", "=", " \t ")), 'rules[0].value: expected a non-empty text'),
        (where(cond("tags", "in", ["vip", "  "])), "rules[0].value[1]: expected a non-empty text"),
        (where(cond("city", "=", "\ud800")),
         "rules[0].value: text is not valid Unicode (a lone surrogate U+D800)"),
        (where(cond("signup_date", ">", "20260501")), "rules[0].value: expected an ISO 8601"),
        (where(cond("signup_date", ">", "2026-W18-5")), "rules[0].value: expected an ISO 8601"),
        (where(cond("signup_date", ">", "2026-121")), "rules[0].value: expected an ISO 8601"),
        (where(cond("signup_date", ">", "2026-05-01T1000")), "rules[0].value: expected an ISO"),
        (where(cond("signup_date", ">", "२०२६-05-01")), "rules[0].value: expected an ISO 8601"),
        (where(cond("visits", ">", "५")), 'rules[0].value: expected a number, got "५"'),
        (where(cond("total_spend", ">", "٢٠٠٠٠")), "rules[0].value: expected a number"),
        (where(cond("city", "=", 5)), "rules[0].value: expected a text, got 5"),
        (where(cond("city", "in", [])), "rules[0].value: expected a non-empty list of texts"),
        (where(cond("city", "in", "Pune,Mumbai")), "rules[0].value: expected a non-empty list"),
        (where(cond("city", "in", ["Pune", 3])), "rules[0].value[1]: expected a text, got 3"),
        (where(cond("subscribed", "=", "yes")),
         'rules[0].value: expected true or false, got "yes"'),
        (where(cond("subscribed", "contains", "x")),
         'rules[0].operator: "contains" is not an operator of boolean field "subscribed"'),
        (where(cond("tags", "=", "vip")),
         'rules[0].operator: "=" is not an operator of tag set field "tags"'),
        (where(cond("city", "like", "x")), 'rules[0].operator: unknown operator "like"'),
        (where({"field": "city", "value": "x"}), "rules[0].operator: missing"),
        (where({"field": "city", "operator": "="}), "rules[0].value: missing"),
        (where(cond("zip", "=", "1")), 'rules[0].field: unknown field "zip"; expected one of name'),
        (where({"operator": "="}), "rules[0]: expected a condition"),
        (where("city = Pune"), "rules[0]: expected a condition"),
        ({"combinator": "xor", "rules": []}, 'combinator: expected "and" or "or", got "xor"'),
        ({"combinator": "and"}, "rules: missing"),
        ({"combinator": "and", "rules": {}}, "rules: expected a list of rules, got {}"),
        ({"combinator": "and", "not": "yes", "rules": []},
         'not: expected true or false, got "yes"'),
        ({"combinator": "and", "rules": [], "version": 2},
         "version: version 2 is newer than this app understands (1)"),
        ({"combinator": "and", "rules": [], "version": "1"}, 'version: expected 1, got "1"'),
        ([], "rule: expected a group object"),
        (None, "rule: expected a group object"),
    ],
)
def test_refusals_name_the_place_and_the_problem(data: Any, message: str) -> None:
    assert error_of(data).startswith(message)


def test_several_problems_are_reported_together() -> None:
    text = error_of(where(cond("visits", ">", "x"), cond("city", "<", "a")))
    assert text == ('rules[0].value: expected a number, got "x"; '
                    'rules[1].operator: "<" is not an operator of string field "city"')


def test_rule_error_is_an_expected_error_with_exit_status_2() -> None:
    with pytest.raises(MiniCRMError) as info:
        parse_rule({"combinator": "and", "rules": [{"field": "nope", "operator": "="}]})
    assert info.value.exit_code == 2


def nested(depth: int) -> dict[str, Any]:
    tree: dict[str, Any] = where(cond("visits", ">", depth))
    for level in range(depth - 1):
        tree = where(cond("visits", ">=", level), tree, combinator="or" if level % 2 else "and")
    return tree


def test_deep_and_wide_trees_within_the_limits_parse() -> None:
    assert MAX_DEPTH >= 12
    assert MAX_CONDITIONS >= 500
    parse_rule(nested(12))
    parse_rule(nested(MAX_DEPTH))
    parse_rule(where(*[cond("visits", "=", i) for i in range(MAX_CONDITIONS)]))


def test_trees_past_the_limits_are_refused_cleanly() -> None:
    assert f"groups nested more than {MAX_DEPTH} deep" in error_of(nested(MAX_DEPTH + 1))
    assert "nested more than" in error_of(nested(32))
    wide = where(*[cond("visits", "=", i) for i in range(2000)])
    assert error_of(wide) == (f"rules[{MAX_CONDITIONS}]: more than {MAX_CONDITIONS} "
                              "conditions in one rule tree")
    lists = where(*[cond("city", "in", [f"c{i}"] * 1000) for i in range(11)])
    assert error_of(lists) == "rules[10].value: more than 10000 list values in one rule tree"
    many_groups = where(*[where() for _ in range(100_000)])
    assert "groups in one rule tree" in error_of(many_groups)


def test_absurdly_deep_json_is_refused_without_recursion_error() -> None:
    deep: Any = {"combinator": "and", "rules": []}
    for _ in range(50_000):
        deep = {"combinator": "and", "rules": [deep]}
    assert "groups nested more than" in error_of(deep)
    junk: Any = []
    for _ in range(50_000):
        junk = [junk]
    assert "expected a condition" in error_of(where(junk))


def test_json_schema_comes_from_the_model_and_names_every_field_and_operator() -> None:
    schema = rule_json_schema()
    condition = schema["$defs"]["Condition"]["properties"]
    assert condition["field"]["enum"] == list(FIELDS)
    every_operator = {op for ops in OPERATORS.values() for op in ops}
    assert set(condition["operator"]["enum"]) == every_operator
    assert "not" in schema["$defs"]["RuleGroup"]["properties"]


def test_strict_json_schema_suits_structured_outputs() -> None:
    schema = rule_json_schema(strict=True)
    assert schema["type"] == "object"
    assert "$ref" not in schema

    def objects(node: Any) -> list[dict[str, Any]]:
        found = []
        if isinstance(node, dict):
            if node.get("type") == "object":
                found.append(node)
            for value in node.values():
                found += objects(value)
        elif isinstance(node, list):
            for item in node:
                found += objects(item)
        return found

    for obj in objects(schema):
        assert obj["additionalProperties"] is False
        assert set(obj["required"]) == set(obj["properties"])
    assert schema["properties"]["not"] == {"title": "Not", "type": "boolean"}
    # What a structured-output model fills in for the optional keys still parses.
    parse_rule({"combinator": "and", "not": False, "version": None, "rules": [
        {"field": "city", "operator": "null", "value": None}]})


@PROPERTY_SETTINGS
@given(tree=trees())
def test_round_trip_is_lossless(tree: dict[str, Any]) -> None:
    parsed = parse_rule(tree)
    dumped = json.loads(json.dumps(parsed.to_json()))
    assert parse_rule(dumped) == parsed
    assert parse_rule(dumped).to_json() == dumped
