"""SQLite's last_order_us (migration 0019): last_order_at as integer microseconds, kept right
by every writer, and rules on the last order exact to the microsecond on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from minicrm_desktop.models.engine_only import sqlite_instant
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.customers.aggregates import refresh_aggregates
from minicrm_desktop.services.customers.seed import seed_demo_data
from minicrm_desktop.services.importing import import_customers, import_orders
from minicrm_desktop.services.segments import compile_rule, optimize_database
from tests.helpers import assert_aggregates_consistent, assert_sqlite_shadows_consistent, write_csv

from .conftest import cond, where
from .instants import assert_shapes_match_the_reference
from .population import Person, insert_people

US = timedelta(microseconds=1)
#: A clock with a fraction of a second: every bound derived from it has one too.
AS_OF = datetime(2026, 8, 31, 12, 0, 0, 500000, tzinfo=UTC)
SIX_MONTHS_BEFORE = datetime(2026, 2, 28, 12, 0, 0, 500000, tzinfo=UTC)  # clamped Aug 31
NINETY_DAYS_BEFORE = AS_OF - timedelta(days=90)


def _stored(engine: Engine, email: str) -> tuple[Any, Any]:
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT last_order_at, last_order_us FROM customers WHERE email_norm = ?",
            (email,)).one()
    return row[0], row[1]


def _micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // US


def test_sqlite_last_order_us_follows_every_writer(sqlite_engine: Engine, tmp_path: Path) -> None:
    engine = sqlite_engine
    when = datetime(2026, 5, 1, 10, 0, 0, 250000, tzinfo=UTC)
    ids = insert_people(engine, [  # refresh_aggregates sets it
        Person("a@x.in", orders=[(100, when), (200, when - timedelta(days=3))]),
        Person("b@x.in"),
    ])
    assert _stored(engine, "a@x.in")[1] == _micros(when)
    assert _stored(engine, "b@x.in") == (None, None)
    with engine.begin() as conn:
        # Plain SQL that knows nothing of the column: the triggers keep it right.
        conn.exec_driver_sql(
            "INSERT INTO customers (email, email_norm, signup_date, order_count, last_order_at) "
            "VALUES ('t@x.in', 't@x.in', '2026-01-01 00:00:00.000000', 1, "
            "'1969-12-31 23:59:59.999999')")
        conn.exec_driver_sql("UPDATE customers SET last_order_at = '2026-05-02 10:00:00' "
                             "WHERE email_norm = 'b@x.in'")
    assert _stored(engine, "t@x.in")[1] == -1
    assert _stored(engine, "b@x.in")[1] == _micros(datetime(2026, 5, 2, 10, tzinfo=UTC))
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE customers SET last_order_at = '2026-05-03T10:00:00.5' "
                             "WHERE email_norm = 'b@x.in'")
        conn.exec_driver_sql("UPDATE customers SET last_order_us = 12345")  # a wrong value
    assert _stored(engine, "b@x.in")[1] == _micros(datetime(2026, 5, 3, 10, 0, 0, 500000,
                                                            tzinfo=UTC))
    assert _stored(engine, "a@x.in")[1] == _micros(when)
    assert _stored(engine, "t@x.in")[1] == -1
    with engine.begin() as conn:  # the customer's orders deleted: no last order any more
        conn.exec_driver_sql("DELETE FROM orders WHERE customer_id = ?", (ids["a@x.in"],))
        refresh_aggregates(conn, [], maybe_empty=[ids["a@x.in"]])
    assert _stored(engine, "a@x.in") == (None, None)

    # The orders import: new orders, then one moved to another customer and one re-dated.
    customers_csv = write_csv(tmp_path / "c.csv", "email\nasha@x.in\nraj@x.in\n")
    import_customers(engine, customers_csv, actor=LOCAL_ADMIN)
    first = ("order_id,customer_email,amount,order_date\n"
             "O-1,asha@x.in,10,2026-06-01T10:00:00.123456Z\nO-2,asha@x.in,10,2026-06-02\n")
    import_orders(engine, write_csv(tmp_path / "o1.csv", first), actor=LOCAL_ADMIN)
    assert _stored(engine, "asha@x.in")[1] == _micros(datetime(2026, 6, 2, tzinfo=UTC))
    second = ("order_id,customer_email,amount,order_date\n"
              "O-2,raj@x.in,10,2026-06-02\nO-1,asha@x.in,10,2026-05-01T00:00:00+05:30\n")
    import_orders(engine, write_csv(tmp_path / "o2.csv", second), actor=LOCAL_ADMIN)
    assert _stored(engine, "asha@x.in")[1] == _micros(datetime(2026, 4, 30, 18, 30, tzinfo=UTC))
    assert _stored(engine, "raj@x.in")[1] == _micros(datetime(2026, 6, 2, tzinfo=UTC))
    seed_demo_data(engine, 40, seed=7, anchor=AS_OF, actor=LOCAL_ADMIN)
    with engine.begin() as conn:  # back to what their (no) orders say, for the check below
        conn.exec_driver_sql("DELETE FROM customers WHERE email_norm = 't@x.in'")
        refresh_aggregates(conn, [ids["b@x.in"]])
    assert _stored(engine, "b@x.in") == (None, None)
    assert_aggregates_consistent(engine)
    assert_sqlite_shadows_consistent(engine)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-05-01 10:00:00.000000", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("2026-05-01 10:00:00.000001", datetime(2026, 5, 1, 10, 0, 0, 1, tzinfo=UTC)),
        ("2026-05-01 10:00:00", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("2026-05-01T10:00:00.5", datetime(2026, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("0001-01-01 00:00:00.000000", datetime(1, 1, 1, tzinfo=UTC)),
        ("9999-12-31 23:59:59.999999", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("1969-12-31 23:59:59.500000", datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)),
    ],
)
def test_sqlite_trigger_and_writers_read_stored_text_alike(
    sqlite_engine: Engine, text: str, moment: datetime
) -> None:
    """The triggers (SQL) and sqlite_instant (what writers store) give the same integer,
    the instant the text names."""
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO customers (email, email_norm, signup_date, last_order_at) "
            "VALUES ('t@x.in', 't@x.in', '2026-01-01 00:00:00.000000', ?)", (text,))
    assert _stored(sqlite_engine, "t@x.in") == (text, _micros(moment))
    assert sqlite_instant(text) == sqlite_instant(moment) == _micros(moment)


def _boundary_people() -> list[Person]:
    """Last orders a microsecond either side of each bound the rules below draw."""
    moments = {
        "six-": SIX_MONTHS_BEFORE - US, "six": SIX_MONTHS_BEFORE, "six+": SIX_MONTHS_BEFORE + US,
        "ninety-": NINETY_DAYS_BEFORE - US, "ninety": NINETY_DAYS_BEFORE,
        "asof-": AS_OF - US, "asof": AS_OF, "asof+": AS_OF + US,
        "day-start": datetime(2026, 5, 1, tzinfo=UTC),
        "day-end": datetime(2026, 5, 1, 23, 59, 59, 999999, tzinfo=UTC),
        "next-day": datetime(2026, 5, 2, tzinfo=UTC),
        "instant": datetime(2026, 5, 1, 10, tzinfo=UTC),
        "instant+": datetime(2026, 5, 1, 10, tzinfo=UTC) + US,
    }
    people = [Person(f"{label}@x.in", orders=[(100, moment), (50, moment - timedelta(days=400))])
              for label, moment in moments.items()]
    return [*people, Person("never@x.in")]


_CONDITIONS = [
    cond("last_order_date", "withinLast", {"amount": 6, "unit": "months"}),
    cond("last_order_date", "notWithinLast", {"amount": 6, "unit": "months"}),
    cond("last_order_date", "withinLast", {"amount": 90, "unit": "days"}),
    cond("last_order_date", "notWithinLast", {"amount": 90, "unit": "days"}),
    cond("last_order_date", "between", ["2026-05-01", "2026-05-01T10:00:00Z"]),
    cond("last_order_date", "notBetween", ["2026-02-28T12:00:00.5Z", "2026-05-01"]),
    cond("last_order_date", "=", "2026-05-01"),
    cond("last_order_date", "!=", "2026-05-01T10:00:00Z"),
    cond("last_order_date", "<", "2026-05-01T10:00:00Z"),
    cond("last_order_date", "<=", "2026-05-01T10:00:00Z"),
    cond("last_order_date", ">", "2026-05-01"),
    cond("last_order_date", ">=", "2026-05-01T10:00:00Z"),
    cond("last_order_date", "<=", "2026-05-01"),
    cond("last_order_date", "<=", "9999-12-31"),  # no bound: only "has a last order"
    cond("last_order_date", ">", "9999-12-31"),  # after all time: nobody
    cond("last_order_date", "null"),
    cond("last_order_date", "notNull"),
]


@pytest.mark.parametrize("condition", _CONDITIONS, ids=lambda c: f"{c['operator']}")
def test_last_order_rules_match_the_reference_at_each_boundary(
    engine: Engine, condition: dict[str, Any]
) -> None:
    assert_shapes_match_the_reference(
        engine, condition, _boundary_people(), AS_OF, stored="last_order_us", text="last_order_at")


def test_sqlite_lapsed_rule_reads_the_integer_index(sqlite_engine: Engine) -> None:
    """"Lapsed and spent over X" as one WHERE (an audience's ids) reads the integer last
    order from a covering index, never the table: ix_customers_last_order_us, or since
    migration 0026 the range of the spend in ix_customers_spend_consent, which holds it too
    (at 1M that read costs 278M instructions against the date ranges' 243M; the count reads
    the date's ranges apart: test_count_plan)."""
    recent, old = AS_OF - timedelta(days=10), AS_OF - timedelta(days=400)
    people = [Person(f"c{i}@x.in", orders=[(600_000, old if i % 5 == 0 else recent)])
              for i in range(200)]
    insert_people(sqlite_engine, [*people, *(Person(f"n{i}@x.in") for i in range(60))])
    optimize_database(sqlite_engine)
    rule = parse_rule(where(
        cond("last_order_date", "notWithinLast", {"amount": 6, "unit": "months"}),
        cond("total_spend", ">", 5000)))
    stmt = compile_rule(rule, AS_OF, "sqlite")
    from minicrm_desktop.services.segments import count_statement

    compiled = count_statement(stmt).compile(sqlite_engine)
    with sqlite_engine.connect() as conn:
        plan = " | ".join(str(r[-1]) for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled),
            tuple(compiled.params[k] for k in compiled.positiontup or [])))
    assert "ix_customers_last_order_us" in plan or "ix_customers_spend_consent" in plan
    steps = [step for step in plan.split(" | ") if "customers" in step]
    assert all("USING COVERING INDEX" in step for step in steps), plan


def test_migration_0019_fills_the_column_of_existing_customers(sqlite_engine: Engine) -> None:
    """Customers written before the migration get their instant; stepping back removes the
    column, its index and triggers, and stepping forward again restores them."""
    from minicrm_desktop.services.core.migrate import downgrade_to, upgrade_to_head

    engine = sqlite_engine
    downgrade_to(engine, "0018")
    with engine.begin() as conn:
        columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(customers)")}
        assert "last_order_us" not in columns
        conn.exec_driver_sql(
            "INSERT INTO customers (email, email_norm, signup_date, last_order_at) VALUES "
            "('a@x.in', 'a@x.in', '2026-01-01 00:00:00.000000', '2026-05-01 10:00:00.000001'), "
            "('b@x.in', 'b@x.in', '2026-01-01 00:00:00.000000', NULL)")
    upgrade_to_head(engine)
    assert _stored(engine, "a@x.in")[1] == _micros(datetime(2026, 5, 1, 10, 0, 0, 1, tzinfo=UTC))
    assert _stored(engine, "b@x.in") == (None, None)
    with engine.connect() as conn:
        names = {row[0] for row in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE tbl_name = 'customers'")}
    assert {"ix_customers_last_order_us", "tr_customers_last_order_insert",
            "tr_customers_last_order_update"} <= names
