"""Anything JSON can hold, fed to the rule parser: it accepts the tree (which then compiles
on both engines) or refuses it with messages that each name a path. Nothing else escapes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, sqlite

from minicrm_desktop.models.rules import RuleError, RuleGroup, decode_rule_text, parse_rule
from minicrm_desktop.models.rules_fields import ALL_OPERATORS, FIELDS
from minicrm_desktop.services.segments import compile_rule
from tests.examples import examples

from .conftest import AS_OF, PROPERTY_SETTINGS

# A problem starts with where it is: "rule", "version", or a path through groups and rules.
_PATH = re.compile(
    r"^(?:rule|(?:[\w$-]+\.)?(?:version|combinator|not|rules)|"
    r"(?:rules\[\d+\]\.)*rules\[\d+\](?:\.(?:field|operator|value(?:\[\d+\]|\.amount|\.unit)?))?"
    r"|(?:rules\[\d+\]\.)+(?:combinator|not|rules))(?:: | )"
)

surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
texts = st.text(st.one_of(st.characters(), surrogates), max_size=12)
huge_ints = st.integers(300, 6000).map(lambda n: 10**n - 1) | st.integers(300, 6000).map(
    lambda n: -(10**n)
)
small_leaves = st.one_of(
    st.from_type(type(None)), st.from_type(bool), st.from_type(int), st.from_type(str),
    st.floats(allow_nan=True, allow_infinity=True), texts,
    st.sampled_from(["", " ", "2026-05-01", "20260501", "2026-W01-1", "5000", "5,000", "٣",
                     "and", "OR", "days", "months", " Vip ", "e\u0301", "HUGE"]),
)
leaves = small_leaves | huge_ints
keys = st.sampled_from(["combinator", "not", "rules", "field", "operator", "value", "version",
                        "amount", "unit", "id"]) | texts
names = st.sampled_from(sorted(FIELDS)) | texts
operators = st.sampled_from(sorted(ALL_OPERATORS)) | texts


def _json(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=5),
        # Shapes close to the contract, so the search reaches the value readers.
        st.fixed_dictionaries({"field": names, "operator": operators},
                              optional={"value": children}),
        st.fixed_dictionaries({"rules": st.lists(children, max_size=4)},
                              optional={"combinator": children, "not": children}),
        st.fixed_dictionaries({"amount": children, "unit": children}),
    )


def _trees(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"rules": st.lists(values, max_size=5)},
        optional={"combinator": values, "not": values, "version": values},
    )


anything = st.recursive(leaves, _json, max_leaves=25)
trees = _trees(anything)
# For the text route: JSON's writer cannot write the huge integers, so "HUGE" stands for one.
text_trees = _trees(st.recursive(small_leaves, _json, max_leaves=25))


def _accepts_or_refuses_by_path(data: Any) -> None:
    problems: list[str] = []
    try:
        tree = parse_rule(data)
    except RuleError as exc:
        problems = exc.problems or ["(no problem named)"]
        str(exc).encode("utf-8", "backslashreplace")  # printable as the CLI prints it
    if problems:
        for problem in problems:
            assert _PATH.match(problem), problem
        return
    assert isinstance(tree, RuleGroup)
    for dialect, compiler in (("sqlite", sqlite.dialect()), ("mysql", mysql.dialect())):
        compile_rule(tree, AS_OF, dialect).compile(dialect=compiler)


@settings(PROPERTY_SETTINGS, max_examples=examples(300))
@given(st.one_of(trees, anything))
def test_any_json_value_is_accepted_or_refused_with_a_path(data: Any) -> None:
    _accepts_or_refuses_by_path(data)


_HUGE = "123456789" * 600  # 5,400 digits: past Python's 4,300-digit conversion limit


@settings(PROPERTY_SETTINGS, max_examples=examples(150))
@given(text_trees, st.sampled_from(["", "-"]))
def test_any_json_text_is_accepted_or_refused_with_a_path(data: Any, sign: str) -> None:
    """Through the text reader the CLI uses: escaped lone surrogates ("\\ud800") and
    integers of thousands of digits arrive as the JSON reader gives them."""
    text = json.dumps(data).replace('"HUGE"', sign + _HUGE)
    try:
        value = decode_rule_text(text, source="rule.json")
    except RuleError as exc:
        refusal = str(exc)
    else:
        _accepts_or_refuses_by_path(value)
        return
    assert refusal.startswith("rule.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"rules": [{"field": "visits", "operator": ">", "value": ' + _HUGE + "}]}",
         "rules[0].value: number out of range"),
        ('{"rules": [{"field": "total_spend", "operator": "between", "value": [1, -' + _HUGE
         + "]}]}", "rules[0].value[1]: number out of range"),
        ('{"rules": [{"field": "last_order_date", "operator": "withinLast", '
         '"value": {"amount": ' + _HUGE + ', "unit": "days"}}]}',
         "rules[0].value.amount: expected a positive whole number, got an integer of 5400"),
        ('{"version": ' + _HUGE + ', "rules": []}',
         "version: expected 1, got an integer of 5400 digits"),
        ('{"rules": [{"field": "city", "operator": "=", "value": "\\ud800"}]}',
         "rules[0].value: text is not valid Unicode (a lone surrogate U+D800)"),
        ('{"rules": [{"field": "tags", "operator": "in", "value": ["vip", "\\udfff"]}]}',
         "rules[0].value[1]: text is not valid Unicode"),
        ('{"rules": [{"field": "\\ud800", "operator": "=", "value": "x"}]}',
         "rules[0].field: unknown field"),
    ],
)
def test_huge_integers_and_lone_surrogates_are_refused_by_path(text: str, message: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_rule(decode_rule_text(text, source="rule.json"))
    assert str(info.value).startswith(message)
