"""SQLite's signup_us (migration 0024): signup_date as integer microseconds, kept right by
every writer, and rules on the signup date exact to the microsecond on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from minicrm_desktop.models.engine_only import sqlite_instant
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.customers.queries import fetch_page, ordered_ids
from minicrm_desktop.services.customers.rows import CustomerQuery
from minicrm_desktop.services.customers.seed import seed_demo_data
from minicrm_desktop.services.importing import import_customers
from minicrm_desktop.services.segments import compile_rule, count_statement, optimize_database
from tests.helpers import assert_sqlite_shadows_consistent, write_csv

from .conftest import audience, cond, where
from .instants import assert_shapes_match_the_reference
from .population import Person, insert_people

US = timedelta(microseconds=1)
AS_OF = datetime(2026, 8, 31, 12, 0, 0, 500000, tzinfo=UTC)
SIX_MONTHS_BEFORE = datetime(2026, 2, 28, 12, 0, 0, 500000, tzinfo=UTC)  # clamped Aug 31
NINETY_DAYS_BEFORE = AS_OF - timedelta(days=90)


def _stored(engine: Engine, email: str) -> tuple[Any, Any]:
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT signup_date, signup_us FROM customers WHERE email_norm = ?", (email,)).one()
    return row[0], row[1]


def _micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // US


def test_sqlite_signup_us_follows_every_writer(sqlite_engine: Engine, tmp_path: Path) -> None:
    engine = sqlite_engine
    when = datetime(2025, 5, 1, 10, 0, 0, 250000, tzinfo=UTC)
    insert_people(engine, [Person("a@x.in", signup_date=when)])  # Core: the trigger sets it
    assert _stored(engine, "a@x.in")[1] == _micros(when)
    with engine.begin() as conn:
        # Plain SQL that knows nothing of the column: the triggers keep it right.
        conn.exec_driver_sql(
            "INSERT INTO customers (email, email_norm, signup_date) "
            "VALUES ('t@x.in', 't@x.in', '1969-12-31 23:59:59.999999')")
        conn.exec_driver_sql("UPDATE customers SET signup_date = '2025-05-02 10:00:00' "
                             "WHERE email_norm = 'a@x.in'")
    assert _stored(engine, "t@x.in")[1] == -1
    assert _stored(engine, "a@x.in")[1] == _micros(datetime(2025, 5, 2, 10, tzinfo=UTC))
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE customers SET signup_date = '2025-05-03T10:00:00.5' "
                             "WHERE email_norm = 'a@x.in'")
        conn.exec_driver_sql("UPDATE customers SET signup_us = 12345")  # a wrong value
        conn.exec_driver_sql(  # a writer naming the column without a value
            "INSERT INTO customers (email, email_norm, signup_date, signup_us) "
            "VALUES ('w@x.in', 'w@x.in', '2025-01-01 00:00:00.000000', NULL)")
    assert _stored(engine, "a@x.in")[1] == _micros(datetime(2025, 5, 3, 10, 0, 0, 500000,
                                                            tzinfo=UTC))
    assert _stored(engine, "t@x.in")[1] == -1
    assert _stored(engine, "w@x.in")[1] == _micros(datetime(2025, 1, 1, tzinfo=UTC))

    # The customers import sets it itself: new customers, a changed date, an empty date
    # (a new customer's is the import's clock; an existing one keeps its date).
    now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    first = "email,signup_date\nasha@x.in,2025-06-01T10:00:00Z\nraj@x.in,\n"
    import_customers(engine, write_csv(tmp_path / "c1.csv", first), actor=LOCAL_ADMIN, now=now)
    assert _stored(engine, "asha@x.in")[1] == _micros(datetime(2025, 6, 1, 10, tzinfo=UTC))
    assert _stored(engine, "raj@x.in")[1] == _micros(now)
    second = ("email,signup_date\nasha@x.in,\nraj@x.in,2024-02-29T23:59:59+05:30\n"
              "a@x.in,2025-05-03T10:00:00Z\n")
    import_customers(engine, write_csv(tmp_path / "c2.csv", second), actor=LOCAL_ADMIN,
                     now=now + timedelta(days=1))
    assert _stored(engine, "asha@x.in")[1] == _micros(datetime(2025, 6, 1, 10, tzinfo=UTC))
    assert _stored(engine, "raj@x.in")[1] == _micros(datetime(2024, 2, 29, 18, 29, 59,
                                                              tzinfo=UTC))
    assert _stored(engine, "a@x.in")[1] == _micros(datetime(2025, 5, 3, 10, tzinfo=UTC))
    seed_demo_data(engine, 40, seed=7, anchor=AS_OF, actor=LOCAL_ADMIN)
    assert_sqlite_shadows_consistent(engine)


def test_sqlite_writers_set_signup_us_themselves(sqlite_engine: Engine, tmp_path: Path) -> None:
    """The import and the seed write signup_us with the row: the update trigger, which
    would rewrite each row, never fires for them."""
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE fixes (n INTEGER)")
        conn.exec_driver_sql(
            "CREATE TRIGGER tr_count_signup_fixes AFTER UPDATE OF signup_us ON customers "
            "BEGIN INSERT INTO fixes VALUES (1); END")
    rows = "".join(f"c{i}@x.in,2025-0{1 + i % 9}-1{i % 10}T0{i % 10}:00:00Z\n" for i in range(50))
    import_customers(sqlite_engine, write_csv(tmp_path / "c.csv", "email,signup_date\n" + rows),
                     actor=LOCAL_ADMIN)
    seed_demo_data(sqlite_engine, 30, seed=3, anchor=AS_OF, actor=LOCAL_ADMIN)
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM fixes").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM customers").scalar() == 80
    assert_sqlite_shadows_consistent(sqlite_engine)


@pytest.mark.parametrize(
    "text",
    ["2026-05-01 10:00:00.000000", "2026-05-01 10:00:00.000001", "2026-05-01 10:00:00",
     "2026-05-01T10:00:00.5", "0001-01-01 00:00:00.000000", "9999-12-31 23:59:59.999999",
     "1969-12-31 23:59:59.500000", "2024-02-29 23:59:59.999999"],
)
def test_sqlite_signup_trigger_and_writers_read_stored_text_alike(
    sqlite_engine: Engine, text: str
) -> None:
    """The triggers (SQL) and sqlite_instant (what writers store) give the same integer,
    the instant the text names, also from its cached fast path (a second reading)."""
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO customers (email, email_norm, signup_date) "
                             "VALUES ('t@x.in', 't@x.in', ?)", (text,))
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    assert _stored(sqlite_engine, "t@x.in") == (text, _micros(moment))
    assert sqlite_instant(text) == sqlite_instant(text) == sqlite_instant(moment)


def _boundary_people() -> list[Person]:
    """Signups a microsecond either side of each bound the rules below draw."""
    moments = {
        "six-": SIX_MONTHS_BEFORE - US, "six": SIX_MONTHS_BEFORE, "six+": SIX_MONTHS_BEFORE + US,
        "ninety-": NINETY_DAYS_BEFORE - US, "ninety": NINETY_DAYS_BEFORE,
        "asof-": AS_OF - US, "asof": AS_OF, "asof+": AS_OF + US,
        "y-start-": datetime(2025, 1, 1, tzinfo=UTC) - US,
        "y-start": datetime(2025, 1, 1, tzinfo=UTC),
        "y-end": datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        "y-end+": datetime(2026, 1, 1, tzinfo=UTC),
        "instant": datetime(2026, 5, 1, 10, tzinfo=UTC),
        "instant+": datetime(2026, 5, 1, 10, tzinfo=UTC) + US,
        "epoch-": datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    }
    return [Person(f"{label}@x.in", signup_date=moment, orders=[(100, AS_OF - timedelta(1))])
            for label, moment in moments.items()]


_CONDITIONS = [
    cond("signup_date", "between", ["2025-01-01", "2025-12-31"]),
    cond("signup_date", "notBetween", ["2025-01-01", "2025-12-31"]),
    cond("signup_date", "between", ["2026-02-28T12:00:00.5Z", "2026-05-01T10:00:00Z"]),
    cond("signup_date", "withinLast", {"amount": 6, "unit": "months"}),
    cond("signup_date", "notWithinLast", {"amount": 6, "unit": "months"}),
    cond("signup_date", "withinLast", {"amount": 90, "unit": "days"}),
    cond("signup_date", "notWithinLast", {"amount": 90, "unit": "days"}),
    cond("signup_date", "=", "2025-12-31"),
    cond("signup_date", "!=", "2026-05-01T10:00:00Z"),
    cond("signup_date", "<", "2025-01-01"),
    cond("signup_date", "<=", "2025-12-31"),
    cond("signup_date", ">", "2025-12-31"),
    cond("signup_date", ">=", "2026-05-01T10:00:00Z"),
    cond("signup_date", "<", "1970-01-01"),
    cond("signup_date", "<=", "9999-12-31"),  # no upper bound: everyone
    cond("signup_date", ">", "9999-12-31"),  # after all time: nobody
    cond("signup_date", "null"),
    cond("signup_date", "notNull"),
]


@pytest.mark.parametrize("condition", _CONDITIONS, ids=lambda c: f"{c['operator']}")
def test_signup_rules_match_the_reference_at_each_boundary(
    engine: Engine, condition: dict[str, Any]
) -> None:
    assert_shapes_match_the_reference(
        engine, condition, _boundary_people(), AS_OF, stored="signup_us", text="signup_date",
        also=[where(condition, cond("last_order_date", "withinLast", {"amount": 7, "unit": "days"}),
              combinator="or")])


def test_sqlite_signup_rule_reads_the_integer_index(sqlite_engine: Engine) -> None:
    """"Signed up in 2025" (the benchmark's rule) is one range of ix_customers_signup_us."""
    insert_people(sqlite_engine, [
        Person(f"c{i}@x.in", signup_date=datetime(2023, 1, 1, tzinfo=UTC) + timedelta(days=i))
        for i in range(1200)])
    optimize_database(sqlite_engine)
    rule = parse_rule(where(cond("signup_date", "between", ["2025-01-01", "2025-12-31"])))
    compiled = count_statement(compile_rule(rule, AS_OF, "sqlite")).compile(sqlite_engine)
    with sqlite_engine.connect() as conn:
        params = tuple(compiled.params[k] for k in compiled.positiontup or [])
        plan = " | ".join(str(r[-1]) for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled), params))
        counted = conn.exec_driver_sql(str(compiled), params).scalar()
    assert "USING COVERING INDEX ix_customers_signup_us" in plan, plan
    assert counted == 365


def test_customer_table_sorts_by_signup_date_on_every_engine(engine: Engine) -> None:
    """The view's sort by signup date (SQLite reads signup_us, its only index of the date):
    chronological, ties by id, either way round."""
    base = datetime(2025, 3, 1, tzinfo=UTC)
    offsets = [5, -3, 0, 5, 2 * 10**6, -1, 0, 7]
    people = [Person(f"s{i}@x.in", signup_date=base + offset * US)
              for i, offset in enumerate(offsets)]
    ids = insert_people(engine, people)
    expected = [ids[p.email] for p in sorted(people, key=lambda p: (p.signup_date,
                                                                   ids[p.email]))]
    with engine.connect() as conn:
        ascending = ordered_ids(conn, CustomerQuery(sort="signup_date"))
        descending = ordered_ids(conn, CustomerQuery(sort="signup_date", descending=True))
        page = fetch_page(conn, CustomerQuery(sort="signup_date"), 2, 3)
    assert ascending is not None
    assert descending is not None
    assert list(ascending) == expected
    assert list(descending) == expected[::-1]
    assert [r.id for r in page] == expected[2:5]
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            plan = " | ".join(str(r[-1]) for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM customers ORDER BY signup_us, id"))
        assert "ix_customers_signup_us" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


def test_migration_0024_fills_the_column_of_existing_customers(sqlite_engine: Engine) -> None:
    """Customers written before the migration get their instant and the text index makes
    way for the integer one; stepping back restores the text index and removes the column,
    its index and triggers; stepping forward again restores them."""
    from minicrm_desktop.services.core.migrate import downgrade_to, upgrade_to_head

    engine = sqlite_engine

    def names() -> set[str]:
        with engine.connect() as conn:
            return {row[0] for row in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE tbl_name = 'customers'")}

    added = {"ix_customers_signup_us", "tr_customers_signup_insert", "tr_customers_signup_update"}
    downgrade_to(engine, "0023")
    assert "ix_customers_signup_date" in names()
    assert not added & names()
    with engine.begin() as conn:
        columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(customers)")}
        assert "signup_us" not in columns
        conn.exec_driver_sql(
            "INSERT INTO customers (email, email_norm, signup_date) VALUES "
            "('a@x.in', 'a@x.in', '2025-05-01 10:00:00.000001'), "
            "('b@x.in', 'b@x.in', '1969-12-31 23:59:59.999999'), "
            "('c@x.in', 'c@x.in', '2025-01-01 00:00:00')")
    optimize_database(engine)  # statistics present: the migration analyzes its index too
    upgrade_to_head(engine)
    assert _stored(engine, "a@x.in")[1] == _micros(datetime(2025, 5, 1, 10, 0, 0, 1, tzinfo=UTC))
    assert _stored(engine, "b@x.in")[1] == -1
    assert _stored(engine, "c@x.in")[1] == _micros(datetime(2025, 1, 1, tzinfo=UTC))
    assert added <= names()
    assert "ix_customers_signup_date" not in names()
    with engine.connect() as conn:
        analyzed = {row[0] for row in conn.exec_driver_sql("SELECT idx FROM sqlite_stat1")}
    assert "ix_customers_signup_us" in analyzed
    rule = where(cond("signup_date", "between", ["2025-01-01", "2025-12-31"]))
    assert len(audience(engine, rule, AS_OF)) == 2
    assert_sqlite_shadows_consistent(engine)
