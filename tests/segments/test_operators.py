"""Every operator of every field type, on SQLite and MariaDB, against hand-worked answers.

The population (conftest.edge_people) holds the contract's edge cases: Unicode case
(Zoë/ZOË, MÜNCHEN, İ, ß), trailing spaces, blank text, LIKE wildcards in data, customers
without orders or tags, and dates on both sides of day and period boundaries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from .conftest import AS_OF, at, audience, cond, edge_people, where
from .reference import matches

Z, Z2, P, PD, B, N = "zoe@x.in", "ZOE2@X.IN", "pune@x.in", "padded@x.in", "blank@x.in", "none@x.in"
PCT, PC, IST, S = "pct@x.in", "pc@x.in", "istanbul@x.in", "strasse@x.in"
ALL = frozenset({Z, Z2, P, PD, B, N, PCT, PC, IST, S})


def but(*excluded: str) -> set[str]:
    return set(ALL - set(excluded))


STRING_CASES: list[tuple[dict[str, Any], set[str]]] = [
    (cond("city", "=", "MÜNCHEN"), {Z, Z2}),
    (cond("city", "=", "münchen"), {Z, Z2}),
    (cond("name", "=", "ZOË"), {Z2}),
    (cond("city", "=", "pune"), {P}),
    (cond("city", "=", "pune "), {PD}),
    (cond("city", "!=", "Pune"), but(P)),
    (cond("city", "in", ["Pune", "KOCHI", "pune"]), {P, PCT, PC}),
    (cond("city", "notIn", ["Pune", "Kochi"]), but(P, PCT, PC)),
    (cond("city", "=", "straße"), set()),
    (cond("city", "=", "STRASSE"), {S}),
    (cond("name", "=", "STRASSE"), set()),
    (cond("name", "contains", "%"), {PCT}),
    (cond("name", "contains", "_real_"), {PCT}),
    (cond("name", "contains", "O'BRIEN"), {PCT}),
    (cond("name", "contains", "\\"), {PCT}),
    (cond("name", "contains", '"q"'), {PCT}),
    (cond("name", "contains", "/"), set()),
    (cond("name", "doesNotContain", "%"), but(PCT)),
    (cond("name", "beginsWith", "ZO"), {Z, Z2}),
    (cond("name", "beginsWith", "100%"), {PCT}),
    (cond("name", "doesNotBeginWith", "zo"), but(Z, Z2)),
    (cond("name", "endsWith", "ÜNAL"), {Z}),
    (cond("name", "doesNotEndWith", "ünal"), but(Z)),
    (cond("city", "endsWith", "e "), {PD}),  # a blank value is refused; spaces still count
    (cond("city", "beginsWith", "pune"), {P, PD}),
    (cond("name", "contains", "İ"), {IST}),
    (cond("name", "null"), {B, N}),
    (cond("name", "notNull"), but(B, N)),
    (cond("phone", "null"), but(Z, P)),
    (cond("phone", "contains", "555"), {P}),
    (cond("email", "=", "zoe2@x.in"), {Z2}),
    (cond("email", "=", "ZOE@X.IN"), {Z}),
    (cond("email", "endsWith", "@X.IN"), set(ALL)),
    (cond("email", "endsWith", "E2@x.In"), {Z2}),
    (cond("email", "endsWith", "_x.in"), set()),  # "_" is literal, not one character
    (cond("email", "endsWith", "%.in"), set()),
    (cond("email", "doesNotEndWith", "ZOE2@X.IN"), but(Z2)),
    (cond("email", "endsWith", "istanbul@x.in"), {IST}),
    (cond("email", "null"), set()),
    (cond("email", "notNull"), set(ALL)),
]

TAG_CASES: list[tuple[dict[str, Any], set[str]]] = [
    (cond("tags", "contains", "vip"), {Z, Z2}),
    (cond("tags", "contains", "VIP"), {Z, Z2}),
    (cond("tags", "doesNotContain", "Vip"), but(Z, Z2)),
    (cond("tags", "contains", "50%_off"), {PCT}),
    (cond("tags", "contains", "50%"), set()),
    (cond("tags", "contains", "FRÜH"), {S}),
    (cond("tags", "in", ["newsletter", "APP-USER"]), {Z, PD}),
    (cond("tags", "notIn", ["newsletter", "app-user"]), but(Z, PD)),
    (cond("tags", "null"), {P, B, N, IST}),
    (cond("tags", "notNull"), but(P, B, N, IST)),
]

BOOLEAN_CASES: list[tuple[dict[str, Any], set[str]]] = [
    (cond("subscribed", "=", True), but(Z2, N)),
    (cond("subscribed", "=", False), {Z2, N}),
    (cond("subscribed", "!=", True), {Z2, N}),
    (cond("subscribed", "!=", False), but(Z2, N)),
]

NUMBER_CASES: list[tuple[dict[str, Any], set[str]]] = [
    (cond("total_spend", ">", 5000), {Z}),
    (cond("total_spend", "=", 5001), {Z}),
    (cond("total_spend", "=", "5001.00"), {Z}),
    (cond("total_spend", "=", 0), {B, N, IST}),
    (cond("total_spend", "!=", 0), but(B, N, IST)),
    (cond("total_spend", "<", 10), {PD, B, N, IST}),
    (cond("total_spend", "<=", 10.0), {PD, B, N, IST, PCT, PC}),
    (cond("total_spend", ">=", "2500"), {Z, P, S}),
    (cond("total_spend", "between", [10, 2500]), {PCT, PC, Z2, S}),
    (cond("total_spend", "notBetween", [10, 2500]), {Z, P, PD, B, N, IST}),
    (cond("total_spend", "between", ["0.01", 0.01]), {PD}),
    (cond("total_spend", "null"), set()),
    (cond("total_spend", "notNull"), set(ALL)),
    (cond("order_count", "=", 0), {B, N, IST}),
    (cond("order_count", ">=", 2), {Z, P, PCT}),
    (cond("order_count", "between", [1, 1]), {Z2, PD, PC, S}),
    (cond("order_count", "null"), set()),
    (cond("visits", ">", 4), {P, B, IST}),
    (cond("visits", "=", 0), {Z2, N}),
    (cond("visits", "notBetween", [1, 5]), {Z2, N, P, IST}),
    (cond("visits", "<", -1), set()),
    (cond("order_count", "!=", 1), but(Z2, PD, PC, S)),
    (cond("visits", "<=", 2), {Z2, PD, N, PCT, PC}),
    (cond("visits", "<", 1), {Z2, N}),
    (cond("visits", ">=", 7), {P, IST}),
    (cond("visits", "between", [2, 4]), {Z, PCT, PC, S}),
    (cond("visits", "notNull"), set(ALL)),
    (cond("avg_order_value", "null"), {B, N, IST}),
    (cond("avg_order_value", "notNull"), but(B, N, IST)),
    (cond("avg_order_value", "=", 2500.5), {Z}),
    (cond("avg_order_value", ">", 2500), {Z}),
    (cond("avg_order_value", ">=", 2500), {Z, S}),
    (cond("avg_order_value", "<", 3.34), {PD, PCT}),
    (cond("avg_order_value", "<=", 3.33), {PD}),
    (cond("avg_order_value", ">", 3.33), {Z, Z2, P, PCT, PC, S}),
    (cond("avg_order_value", "=", 3.33), set()),
    (cond("avg_order_value", "!=", 3.33), set(ALL)),
    (cond("avg_order_value", "between", [3.33, 10]), {PCT, PC}),
    (cond("avg_order_value", "notBetween", [3.33, 10]), but(PCT, PC)),
]

DATETIME_CASES: list[tuple[dict[str, Any], set[str]]] = [
    (cond("signup_date", "=", "2026-05-01"), {Z, P}),
    (cond("signup_date", "!=", "2026-05-01"), but(Z, P)),
    (cond("signup_date", "<", "2026-05-01"), {Z2, B, N, PCT, PC, S}),
    (cond("signup_date", "<=", "2026-05-01"), {Z2, B, N, PCT, PC, S, Z, P}),
    (cond("signup_date", ">", "2026-05-01"), {PD, IST}),
    (cond("signup_date", ">=", "2026-05-01"), {Z, P, PD, IST}),
    (cond("signup_date", "between", ["2026-04-30", "2026-05-01"]), {Z2, Z, P}),
    (cond("signup_date", "notBetween", ["2026-04-30", "2026-05-01"]), but(Z2, Z, P)),
    (cond("signup_date", "=", "2026-05-01T18:00:00+05:30"), {Z, P}),
    (cond("signup_date", "=", "2026-05-01T02:00:00+05:30"), {Z2}),
    (cond("signup_date", "<", "2026-05-01T00:00:00Z"), {Z2, B, N, PCT, PC, S}),
    (cond("signup_date", "<=", "2026-05-01T00:00:00Z"), {Z2, B, N, PCT, PC, S, Z}),
    (cond("signup_date", ">", "2026-05-01T23:59:59.999999Z"), {PD, IST}),
    (cond("signup_date", ">=", "2026-05-01T23:59:59.999999Z"), {P, PD, IST}),
    (cond("signup_date", "between", ["2026-05-01T00:00:00Z", "2026-05-01T23:59:59.999999Z"]),
     {Z, P}),
    (cond("signup_date", "between", ["2026-05-01T05:30:00+05:30", "2026-05-01"]), {Z, P}),
    (cond("signup_date", "between", ["2020-02-29", "2020-02-29"]), {N}),
    (cond("signup_date", "withinLast", {"amount": 6, "unit": "months"}), {Z, Z2, P, PD, IST, S}),
    (cond("signup_date", "null"), set()),
    (cond("signup_date", "notNull"), set(ALL)),
    # 6 months before Aug 31 12:00 is Feb 28 12:00 (clamped): Z's first order is on the bound.
    (cond("last_order_date", "withinLast", {"amount": 6, "unit": "months"}), {Z, PD, PCT, PC, S}),
    (cond("last_order_date", "notWithinLast", {"amount": 6, "unit": "months"}), {Z2, P, B, N, IST}),
    (cond("first_order_date", "withinLast", {"amount": 6, "unit": "months"}), {Z, PD, PCT, PC, S}),
    (cond("last_order_date", "withinLast", {"amount": 1, "unit": "years"}), but(B, N, IST)),
    (cond("last_order_date", "withinLast", {"amount": 2, "unit": "weeks"}), {PD}),
    (cond("last_order_date", "withinLast", {"amount": 30, "unit": "days"}), {PD}),
    (cond("last_order_date", "withinLast", {"amount": 31, "unit": "days"}), {Z, PD}),
    (cond("last_order_date", "null"), {B, N, IST}),
    (cond("last_order_date", ">", "2026-08-31"), set()),
    (cond("last_order_date", ">=", "2026-08-31"), {PD}),
    (cond("first_order_date", "<", "2025-01-01"), set()),
    (cond("first_order_date", "<=", "2025-01-01"), {P}),
    (cond("last_visit", "null"), but(Z, B, IST)),
    (cond("last_visit", "notNull"), {Z, B, IST}),
    (cond("last_visit", "withinLast", {"amount": 1, "unit": "days"}), {IST}),
    (cond("last_visit", "=", "2026-08-30"), {Z}),
    (cond("last_visit", "!=", "2026-08-30"), but(Z)),
    (cond("last_visit", "<", "2026-08-30"), {B}),
    (cond("last_visit", "notBetween", ["2026-01-01", "2026-08-30"]), but(Z, B)),
]

GROUP_CASES: list[tuple[dict[str, Any], set[str]]] = [
    (where(), set(ALL)),
    ({"combinator": "and", "not": True, "rules": []}, set(ALL)),
    (where({"combinator": "or", "not": True, "rules": []}, cond("city", "=", "pune")), {P}),
    ({"combinator": "and", "not": True, "rules": [cond("city", "=", "pune")]}, but(P)),
    (where(cond("city", "=", "pune"), cond("tags", "contains", "vip"), combinator="OR"),
     {P, Z, Z2}),
    (where(cond("city", "=", "münchen"), where(cond("visits", ">", 0), cond("tags", "null"),
                                                combinator="or")), {Z}),
    ({"combinator": "Or", "not": True, "rules": [
        {"combinator": "and", "not": True, "rules": [cond("subscribed", "=", True)]},
        cond("total_spend", ">", 0),
    ]}, {B, IST}),
]


def _check(engine: Engine, ids: dict[str, int],
           cases: list[tuple[dict[str, Any], set[str]]], as_of: datetime = AS_OF) -> None:
    by_id = {v: k for k, v in ids.items()}
    people = {p.email: p for p in edge_people()}
    failures = []
    for rule, expected in cases:
        tree = rule if "rules" in rule else where(rule)
        got = {by_id[i] for i in audience(engine, tree, as_of)}
        reference = {e for e, p in people.items() if matches(tree, p, as_of)}
        if got != expected or reference != expected:
            failures.append(f"{rule}: expected {sorted(expected)}, SQL gave {sorted(got)}, "
                            f"reference gave {sorted(reference)}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "cases",
    [
        pytest.param(STRING_CASES, id="string"),
        pytest.param(TAG_CASES, id="tags"),
        pytest.param(BOOLEAN_CASES, id="boolean"),
        pytest.param(NUMBER_CASES, id="number"),
        pytest.param(DATETIME_CASES, id="datetime"),
        pytest.param(GROUP_CASES, id="groups"),
    ],
)
def test_operators(edge_db: tuple[Engine, dict[str, int]],
                   cases: list[tuple[dict[str, Any], set[str]]]) -> None:
    engine, ids = edge_db
    _check(engine, ids, cases)


def test_every_operator_of_every_field_is_covered() -> None:
    from minicrm_desktop.models.rules_fields import FIELDS, OPERATORS

    covered = {(c["field"], c["operator"]) for cases in (
        STRING_CASES, TAG_CASES, BOOLEAN_CASES, NUMBER_CASES, DATETIME_CASES) for c, _ in cases}
    types: dict[Any, set[str]] = {}
    for field, ftype in FIELDS.items():
        types.setdefault(ftype, set()).add(field)
    missing = [
        (ftype.value, op) for ftype, ops in OPERATORS.items() for op in ops
        if not any((f, op) in covered for f in types[ftype])
    ]
    assert missing == []


def test_years_and_months_clamp_at_leap_days(edge_db: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = edge_db
    # none@x.in signed up 2020-02-29 00:00. One year before 2021-02-28 is 2020-02-28: inside.
    _check(engine, ids, [
        (cond("signup_date", "withinLast", {"amount": 1, "unit": "years"}), {N}),
        (cond("signup_date", "withinLast", {"amount": 12, "unit": "months"}), {N}),
    ], as_of=at("2021-02-28T00:00:00"))
    # From 2021-03-01 a year back is 2020-03-01: outside.
    _check(engine, ids, [
        (cond("signup_date", "withinLast", {"amount": 1, "unit": "years"}), set()),
        (cond("signup_date", "notWithinLast", {"amount": 1, "unit": "years"}), set(ALL)),
    ], as_of=at("2021-03-01T00:00:00"))
