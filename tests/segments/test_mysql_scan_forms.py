"""Two rules MariaDB must answer from one index read per customer, as cheaply as it can:
"text contains" (COALESCE(LOCATE(bytes, CAST(col AS BINARY)), 0) > 0 over a full scan of
the column's index, not LIKE over a range on IS NOT NULL) and "average order value"
(decided by the truncated average, the exact product only where it equals the bound).
The same customers as the reference evaluator on both engines, alone, under OR and under
NOT, and the plans that keep them fast on MariaDB."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete

from minicrm_desktop.models import Base
from minicrm_desktop.models.engine_only import sqlite_average
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.segments import count_statement, optimize_database
from minicrm_desktop.services.segments.compiler import compile_rule
from tests.examples import examples

from .conftest import AS_OF, PROPERTY_SETTINGS, at, audience, cond, where
from .population import Person, insert_people
from .reference import matches

#: Wildcards, the LIKE escape, quotes, blanks, case pairs, and letters whose lower-case
#: form is longer (İ) or several bytes long (ß, ë, an emoji outside the BMP).
_ALPHABET = list("aAsShH%_/\\' ßëËİ\U0001f600")
_TEXTS = st.none() | st.text(alphabet=_ALPHABET, max_size=8)
_VALUES = st.text(alphabet=_ALPHABET, min_size=1, max_size=4).filter(lambda v: bool(v.strip()))
_DAY = at("2026-06-01T00:00:00")


def _reset(engine: Engine, population: list[Person]) -> dict[int, Person]:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    ids = insert_people(engine, population)
    return {ids[p.email]: p for p in population}


def _shapes(test: dict[str, Any]) -> list[dict[str, Any]]:
    """The test alone (the fast form), beside another test, under an OR and under NOTs."""
    nobody = cond("email", "=", "nobody@x.in")
    return [
        where(test),
        where(test, cond("visits", ">=", 0)),
        where(test, nobody, combinator="or"),
        {**where(test), "not": True},
        {"combinator": "and", "not": True, "rules": [{**where(test), "not": True}]},
    ]


def _check(engine: Engine, people: dict[int, Person], test: dict[str, Any]) -> None:
    for rule in _shapes(test):
        expected = {i for i, p in people.items() if matches(rule, p, AS_OF)}
        assert audience(engine, rule) == expected, rule


@settings(PROPERTY_SETTINGS, max_examples=examples(40))
@given(names=st.lists(st.tuples(_TEXTS, _TEXTS), min_size=1, max_size=8),
       field=st.sampled_from(["name", "city", "phone"]),
       operator=st.sampled_from(["contains", "doesNotContain"]), value=_VALUES)
def test_text_contains_matches_the_reference(
    engine: Engine, names: list[tuple[str | None, str | None]], field: str, operator: str,
    value: str,
) -> None:
    population = [Person(f"c{i}@x.in", name=name, city=city, phone=city)
                  for i, (name, city) in enumerate(names)]
    people = _reset(engine, population)
    _check(engine, people, cond(field, operator, value))


_AVERAGE_OPERATORS = [">", ">=", "<", "<=", "=", "!=", "between", "notBetween"]


@st.composite
def _average_case(draw: st.DrawFn) -> tuple[list[Person], str, Any]:
    """Customers with 0-4 orders (refunds included), and a bound drawn from their truncated
    averages a paisa either side, so that every side of the index's truncation is hit."""
    orders = st.lists(st.integers(-5_000, 400_000), max_size=4)
    amounts = draw(st.lists(orders, min_size=1, max_size=8))
    population = [Person(f"a{i}@x.in", orders=[(a, _DAY) for a in person])
                  for i, person in enumerate(amounts)]
    near = sorted({sqlite_average(sum(a), len(a)) + step  # type: ignore[operator]
                   for a in amounts if a for step in (-1, 0, 1)})
    bounds = st.sampled_from(near) if near else st.integers(-5_000, 400_000)
    operator = draw(st.sampled_from(_AVERAGE_OPERATORS))

    def rupees(minor: int) -> str:
        return str(Decimal(minor) / 100)

    if operator in ("between", "notBetween"):
        low, high = sorted((draw(bounds), draw(bounds)))
        return population, operator, [rupees(low), rupees(high)]
    return population, operator, rupees(draw(bounds))


@settings(PROPERTY_SETTINGS, max_examples=examples(60))
@given(case=_average_case())
def test_average_order_value_matches_the_reference(
    engine: Engine, case: tuple[list[Person], str, Any]
) -> None:
    population, operator, value = case
    people = _reset(engine, population)
    with engine.connect() as conn:  # the index's column is the truncated average
        stored: dict[str, int | None] = dict(conn.exec_driver_sql(
            "SELECT email_norm, avg_order_minor FROM customers").fetchall())
    for p in people.values():
        total = sum(a for a, _ in p.orders)
        assert stored[p.email] == sqlite_average(total, len(p.orders))
    _check(engine, people, cond("avg_order_value", operator, value))


def _plan(engine: Engine, rule: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    compiled = count_statement(compile_rule(parse_rule(rule), AS_OF, "mysql")).compile(engine)
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN FORMAT=JSON " + compiled.string,
                                    compiled.params).scalar_one()
    block = json.loads(plan)["query_block"]
    table: dict[str, Any] = block["table"] if "table" in block else block["nested_loop"][0]["table"]
    return compiled.string, table


def test_mysql_name_contains_scans_the_name_index_with_locate(mysql_engine: Engine) -> None:
    """A full scan of ix_customers_name_norm alone, a byte search in each name; not LIKE
    after a range on IS NOT NULL (~25% more per entry at a million: benchmarks/segments.py
    name_contains). At this size MariaDB scans the index either way, so the SQL tells."""
    first = ["Asha", "Rohan", "Isha", "Vikram", "Meera", "Arjun", "Priya", "Kabir"]
    last = ["Shah", "Sharma", "Iyer", "Rao", "Das", "Menon", "Gupta", "Nair"]
    people = [Person(f"p{i}@x.in", name=f"{first[i % 8]} {last[i // 8 % 8]}",
                     city=f"City {i % 5}") for i in range(200)]
    people += [Person(f"n{i}@x.in") for i in range(20)]
    insert_people(mysql_engine, people)
    optimize_database(mysql_engine)
    sql, table = _plan(mysql_engine, where(cond("name", "contains", "sha")))
    assert table["key"] == "ix_customers_name_norm", table
    assert table["access_type"] == "index", table  # not "range" (IS NOT NULL) nor "ALL"
    assert table.get("using_index") is True, table
    assert "locate(" in sql.lower()
    assert "cast(customers.name_norm as binary)" in sql.lower()
    assert " like " not in sql.lower()


def test_mysql_average_tests_the_product_only_at_the_bound(mysql_engine: Engine) -> None:
    """A range of ix_customers_avg_order_minor, where the truncated average decides every
    entry but those equal to the bound (the exact product, an OR branch, is skipped for
    the others); not a product and an order-count test on every entry of the range."""
    people = [Person(f"p{i}@x.in", orders=[(100_000 + 1_000 * i, _DAY)] * (1 + i % 3))
              for i in range(200)]
    insert_people(mysql_engine, [*people, *(Person(f"n{i}@x.in") for i in range(20))])
    optimize_database(mysql_engine)
    sql, table = _plan(mysql_engine, where(cond("avg_order_value", ">", 1500)))
    assert "customers.order_count > " not in sql, sql
    assert re.search(r"\(customers\.avg_order_minor > \S+ OR customers\.total_spend_minor > "
                     r"customers\.order_count \* \S+\)", sql), sql
    assert table["key"] == "ix_customers_avg_order_minor", table
    assert table["access_type"] == "range", table
    assert table.get("using_index") is True, table
