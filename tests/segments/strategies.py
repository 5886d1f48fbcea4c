"""Random customers and random rule trees drawn from pools full of the contract's edge cases."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from minicrm_desktop.models.rules_fields import FIELDS, OPERATORS, FieldType

from .conftest import AS_OF, at
from .population import Person

TEXTS = ["Zoë", "ZOË", "zoe", "MÜNCHEN", "münchen", "Pune", "pune ", " pune", "PUNE", "100%",
         "a_b", "axb", "a%b", "O'Brien", "back\\slash", "İstanbul", "Straße", "STRASSE",
         "x' OR '1'='1", "", "   ", None]
TEXT_VALUES = ["zoë", "ZOË", "münchen", "pune", "pune ", " pune", "%", "_", "a_b", "'", "\\",
               "İ", "i̇", "ß", "ss", "e", "n", "x", "' OR 1=1 --", "100%"]
TAGS = ["vip", "VIP", "newsletter", "50%_off", "50xxoff", "Früh"]
MOMENTS = [
    AS_OF, AS_OF - timedelta(microseconds=1), AS_OF + timedelta(microseconds=1),
    at("2026-02-28T12:00:00"), at("2026-02-28T11:59:59.999999"), at("2026-05-01T00:00:00"),
    at("2026-04-30T23:59:59.999999"), at("2026-05-01T23:59:59.999999"),
    at("2026-05-02T00:00:00"), at("2025-08-31T12:00:00"), at("2024-02-29T00:00:00"),
    at("2026-08-24T12:00:00"), at("2026-08-31T00:00:00"), at("2026-09-01T00:00:00"),
]
DATE_VALUES = ["2026-05-01", "2026-04-30", "2026-02-28", "2026-08-31", "2024-02-29",
               "2026-05-01T00:00:00Z", "2026-05-01T23:59:59.999999Z", "2026-05-01T05:30:00+05:30",
               "2026-02-28T12:00:00Z", "2026-08-31T12:00:00", "0001-01-01", "9999-12-31"]
MONEY_VALUES = [0, 0.01, "0.01", 10, 2500, 2500.5, 5000, "5000", 3.33, 3.34, -1]
COUNT_VALUES = [0, 1, 2, 3, 5, "2"]
AMOUNTS = [1, 100, 333, 334, 250000, 500000, 200050, 0]


def random_people(seed: int, n: int) -> list[Person]:
    rng = random.Random(seed)

    def moment() -> Any:
        if rng.random() < 0.6:
            return rng.choice(MOMENTS)
        return AS_OF - timedelta(seconds=rng.randrange(-86400 * 3, 86400 * 800))

    people = []
    for i in range(n):
        orders = [(rng.choice(AMOUNTS), moment()) for _ in range(rng.choice([0, 0, 1, 2, 3]))]
        people.append(Person(
            email=f"P{i}.{rng.choice(['a', 'Ä', 'b'])}@x.in",
            name=rng.choice(TEXTS), phone=rng.choice(TEXTS), city=rng.choice(TEXTS),
            signup_date=moment(), visits=rng.choice([0, 1, 2, 3, 5, 8]),
            last_visit=rng.choice([None, moment()]), subscribed=rng.random() < 0.7,
            tags=rng.sample(TAGS[1:], rng.choice([0, 0, 1, 2])), orders=orders,
        ))
    return people


def _value(field: str, op: str) -> st.SearchStrategy[Any]:
    ftype = FIELDS[field]
    if op in ("null", "notNull"):
        return st.none()
    if op in ("withinLast", "notWithinLast"):
        return st.fixed_dictionaries({
            "amount": st.integers(1, 14),
            "unit": st.sampled_from(["days", "weeks", "months", "years"]),
        })
    if ftype in (FieldType.STRING, FieldType.TAGS):
        pool = TAGS if ftype is FieldType.TAGS else TEXT_VALUES
        if op in ("in", "notIn"):
            return st.lists(st.sampled_from(pool), min_size=1, max_size=3)
        return st.sampled_from(pool)
    if ftype is FieldType.BOOLEAN:
        return st.booleans()
    pool_values: list[Any] = (
        DATE_VALUES if ftype is FieldType.DATETIME
        else COUNT_VALUES if ftype is FieldType.INTEGER
        else MONEY_VALUES
    )
    if op in ("between", "notBetween"):
        return st.lists(st.sampled_from(pool_values), min_size=2, max_size=2).filter(_ordered)
    return st.sampled_from(pool_values)


def _ordered(pair: list[Any]) -> bool:
    from minicrm_desktop.models.rules import RuleError, parse_rule

    field = "signup_date" if isinstance(pair[0], str) and "-" in pair[0][1:] else "total_spend"
    try:
        parse_rule({"combinator": "and", "rules": [
            {"field": field, "operator": "between", "value": pair}]})
    except RuleError:
        return False
    return True


@st.composite
def conditions(draw: st.DrawFn, fields: list[str] | None = None) -> dict[str, Any]:
    """One condition on any field (or one of `fields`) with a valid operator and value."""
    field = draw(st.sampled_from(sorted(fields or FIELDS)))
    op = draw(st.sampled_from(OPERATORS[FIELDS[field]]))
    value = draw(_value(field, op))
    out: dict[str, Any] = {"field": field, "operator": op}
    if value is not None:
        out["value"] = value
    return out


def trees(max_leaves: int = 8) -> st.SearchStrategy[dict[str, Any]]:
    def group(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.builds(
            lambda comb, neg, rules: {"combinator": comb, "not": neg, "rules": rules},
            st.sampled_from(["and", "or", "AND", "Or"]),
            st.booleans(),
            st.lists(children, max_size=4),
        )

    return group(st.recursive(conditions(), group, max_leaves=max_leaves))


def sample_values(field: str, op: str, n: int = 4) -> list[Any]:
    """Values of a (field, operator) from the same pools, deterministically: every pool
    value for single-value operators, `n` picks for lists and ranges."""
    rng = random.Random(f"{field} {op}")
    ftype = FIELDS[field]
    if op in ("null", "notNull"):
        return [None]
    if op in ("withinLast", "notWithinLast"):
        return [{"amount": rng.randint(1, 14), "unit": u}
                for u in ("days", "weeks", "months", "years")]
    if ftype is FieldType.BOOLEAN:
        return [True, False]
    pool: list[Any] = (
        TAGS if ftype is FieldType.TAGS
        else TEXT_VALUES if ftype is FieldType.STRING
        else DATE_VALUES if ftype is FieldType.DATETIME
        else COUNT_VALUES if ftype is FieldType.INTEGER
        else MONEY_VALUES
    )
    if op in ("in", "notIn"):
        return [rng.sample(pool, 2) for _ in range(n)]
    if op in ("between", "notBetween"):
        pairs = [sorted(rng.sample(pool, 2), key=str) for _ in range(n * 4)]
        return [p for p in pairs if _ordered(p)][:n]
    return list(pool)


@st.composite
def people(draw: st.DrawFn, max_size: int = 12) -> list[Person]:
    """A small random population drawn by hypothesis (so failures shrink to a few rows)."""
    moments = st.sampled_from(MOMENTS)
    texts = st.sampled_from(TEXTS)
    n = draw(st.integers(1, max_size))
    out = []
    for i in range(n):
        out.append(Person(
            email=f"h{i}@x.in", name=draw(texts), phone=draw(texts), city=draw(texts),
            signup_date=draw(moments), visits=draw(st.sampled_from([0, 1, 2, 5])),
            last_visit=draw(st.none() | moments), subscribed=draw(st.booleans()),
            tags=draw(st.lists(st.sampled_from(TAGS[1:]), max_size=2, unique=True)),
            orders=draw(st.lists(st.tuples(st.sampled_from(AMOUNTS), moments), max_size=3)),
        ))
    return out
