"""Compiler details: calendar arithmetic, the clock, and query shapes that keep counts fast."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from minicrm_desktop.models.engine_only import (
    ENGINE_INDEXES,
    LAST_ORDER_ACTIVITY_INDEX,
    LAST_ORDER_SPEND_INDEX,
    ORDER_COUNT_CONSENT_INDEX,
    ORDER_COUNT_WALK_INDEX,
    SPEND_ACTIVITY_INDEX,
    SPEND_CONSENT_INDEX,
)
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.models.rules_values import Period
from minicrm_desktop.services.core.migrate import alembic_config, downgrade_to, upgrade_to_head
from minicrm_desktop.services.segments import count_statement, optimize_database
from minicrm_desktop.services.segments.compiler import compile_rule
from minicrm_desktop.services.segments.periods import months_before, period_start, resolve_as_of

from .conftest import AS_OF, at, audience, cond, edge_people, where
from .population import Person, insert_people


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (utc(2026, 8, 31, 12), 6, utc(2026, 2, 28, 12)),
        (utc(2024, 8, 31, 12), 6, utc(2024, 2, 29, 12)),
        (utc(2026, 3, 31), 1, utc(2026, 2, 28)),
        (utc(2026, 5, 31), 1, utc(2026, 4, 30)),
        (utc(2026, 1, 15), 1, utc(2025, 12, 15)),
        (utc(2024, 2, 29), 12, utc(2023, 2, 28)),
        (utc(2026, 7, 1), 18, utc(2025, 1, 1)),
        (utc(2, 1, 1), 13, None),
    ],
)
def test_calendar_months_clamp_to_the_month_end(
    moment: datetime, months: int, expected: datetime | None
) -> None:
    assert months_before(moment, months) == expected


def test_periods_reaching_past_all_time_have_no_start() -> None:
    as_of = utc(2026, 8, 31)
    assert period_start(as_of, Period(10**12, "days")) is None
    assert period_start(as_of, Period(10**9, "years")) is None
    assert period_start(as_of, Period(2, "weeks")) == utc(2026, 8, 17)
    assert period_start(as_of, Period(1, "years")) == utc(2025, 8, 31)


def test_the_clock_is_utc() -> None:
    assert resolve_as_of(datetime(2026, 5, 1, 10)) == utc(2026, 5, 1, 10)
    assert resolve_as_of(datetime.fromisoformat("2026-05-01T10:00:00+05:30")) == utc(
        2026, 5, 1, 4, 30)
    assert resolve_as_of(None).tzinfo is UTC


def test_huge_periods_match_everyone_with_a_date(edge_db: tuple[Engine, dict[str, int]]) -> None:
    from .conftest import count

    engine, ids = edge_db
    rule = where(cond("signup_date", "withinLast", {"amount": 10**15, "unit": "days"}))
    assert count(engine, rule) == len(ids)
    negated = where(cond("signup_date", "notWithinLast", {"amount": 10**15, "unit": "months"}))
    assert count(engine, negated) == 0


def _plan(engine: Engine, rule: dict) -> str:
    stmt = count_statement(compile_rule(parse_rule(rule), None, "sqlite"))
    compiled = stmt.compile(engine, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    processors: dict[str, Any] = dict(compiled._bind_processors)
    order: list[str] = list(compiled.positiontup or [])
    args = tuple(processors[k](params[k]) if k in processors else params[k] for k in order)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), args).all()
    return "\n".join(str(r[-1]) for r in rows)


def test_sqlite_or_trees_scan_one_index_instead_of_merging_many(sqlite_engine: Engine) -> None:
    insert_people(sqlite_engine, edge_people())
    optimize_database(sqlite_engine)
    rule = where(
        cond("subscribed", "=", True),
        where(cond("total_spend", ">=", 20000),
              where(cond("order_count", ">=", 3),
                    cond("last_order_date", "withinLast", {"amount": 90, "unit": "days"})),
              combinator="or"),
    )
    plan = _plan(sqlite_engine, rule)
    assert "MULTI-INDEX OR" not in plan
    # SQLite reads the last order as an integer (migration 0019) from an index holding it
    # with spend, count and consent (0019's, 0023's led by the count, or 0026's led by the
    # spend: the same columns).
    assert any(name in plan for name in ("ix_customers_last_order_us",
                                         "ix_customers_order_count_consent",
                                         "ix_customers_spend_consent")), plan
    # With a million rows the planner would merge per-branch index lookups (30x slower);
    # under an OR, unary + keeps columns out of index seeks. Outside ORs, seeks stay.
    sql = str(compile_rule(parse_rule(rule), None, "sqlite").compile(sqlite_engine))
    assert "customers.subscribed = " in sql
    assert "+customers.subscribed" not in sql
    assert "+customers.total_spend_minor >= " in sql
    assert "+customers.last_order_us >= " in sql
    mysql_sql = str(compile_rule(parse_rule(rule), None, "mysql"))
    assert "+" not in mysql_sql


def test_sqlite_tag_match_scans_the_tags_index(sqlite_engine: Engine) -> None:
    insert_people(sqlite_engine, edge_people())
    optimize_database(sqlite_engine)
    for rule in (
        where(cond("tags", "contains", "VIP")),
        where(cond("tags", "doesNotContain", "VIP")),
    ):
        plan = _plan(sqlite_engine, rule)
        # One pass over the narrow covering index: no per-customer probe of customer_tags.
        assert "USING COVERING INDEX ix_customers_tags_norm" in plan
        assert "customer_tags" not in plan


def test_mysql_email_suffix_seeks_the_reversed_email_index(mysql_engine: Engine) -> None:
    insert_people(mysql_engine, edge_people())
    rule = parse_rule(where(cond("email", "endsWith", "@gmail.com")))
    stmt = count_statement(compile_rule(rule, None, mysql_engine.dialect.name))
    compiled = stmt.compile(mysql_engine)
    assert "customers.email_rev LIKE %(" in compiled.string
    assert "moc.liamg@%" in compiled.params.values()
    with mysql_engine.connect() as conn:
        # The generated column really is the reversed normalized email.
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM customers WHERE email_rev <> REVERSE(email_norm)"
        ).scalar() == 0
        plan = conn.exec_driver_sql("EXPLAIN FORMAT=JSON " + compiled.string,
                                    compiled.params).scalar_one()
    assert '"key": "ix_customers_email_rev"' in plan


def test_mysql_tag_match_walks_the_customers_of_the_tag(mysql_engine: Engine) -> None:
    insert_people(mysql_engine, edge_people())
    optimize_database(mysql_engine)
    rule = parse_rule(where(cond("tags", "in", ["VIP", "app-user"])))
    stmt = count_statement(compile_rule(rule, None, mysql_engine.dialect.name))
    compiled = stmt.compile(mysql_engine, compile_kwargs={"render_postcompile": True})
    # A semi-join over the link table by normalised tag name, not a LIKE on tags_norm
    # (whose 255-byte prefix index cannot answer it: every customer row would be read).
    assert "tags_norm" not in compiled.string
    assert {"vip", "app-user"} <= set(compiled.params.values())
    with mysql_engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN FORMAT=JSON " + compiled.string,
                                    compiled.params).scalar_one()
    assert '"key": "ix_customer_tags_tag_id_customer_id"' in plan


def _average_people() -> list[Person]:
    """Averages just below, at and just above ₹1,500 (and a negative one from a refund)."""
    day = at("2026-06-01T00:00:00")
    totals = {"below": (299_999, 2), "at": (450_000, 3), "above": (300_001, 2),
              "refund": (-3, 2), "none": (0, 0)}
    people = []
    for label, (total, n) in totals.items():
        amounts = [total - (n - 1) * (total // n)] + [total // n] * (n - 1) if n else []
        people.append(Person(email=f"{label}@x.in", orders=[(a, day) for a in amounts]))
    return people


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        (">", 1500, {"above"}),
        (">=", 1500, {"at", "above"}),
        ("<", 1500, {"below", "refund"}),
        ("<=", 1500, {"below", "at", "refund"}),
        ("=", 1500, {"at"}),
        (">", -0.01, {"below", "at", "above"}),
        ("<", 0, {"refund"}),
        ("<=", -0.02, set()),
        ("between", [1499.99, 1500], {"below", "at"}),
        ("!=", 1500, {"below", "above", "refund", "none"}),
    ],
)
def test_average_order_value_is_exact_around_the_truncated_index_value(
    engine: Engine, operator: str, value: Any, expected: set[str]
) -> None:
    ids = insert_people(engine, _average_people())
    names = {i: e.split("@")[0] for e, i in ids.items()}
    found = audience(engine, where(cond("avg_order_value", operator, value)))
    assert {names[i] for i in found} == expected


def test_mysql_average_order_value_seeks_the_truncated_average(mysql_engine: Engine) -> None:
    insert_people(mysql_engine, _average_people())
    optimize_database(mysql_engine)
    rule = parse_rule(where(cond("avg_order_value", ">", 1500)))
    compiled = count_statement(compile_rule(rule, None, "mysql")).compile(mysql_engine)
    assert "customers.avg_order_minor >= " in compiled.string
    with mysql_engine.connect() as conn:
        # The generated column really is the truncated average (NULL without orders).
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM customers WHERE NOT (avg_order_minor <=> "
            "IF(order_count > 0, total_spend_minor DIV order_count, NULL))"
        ).scalar() == 0
        plan = conn.exec_driver_sql("EXPLAIN FORMAT=JSON " + compiled.string,
                                    compiled.params).scalar_one()
    assert '"key": "ix_customers_avg_order_minor"' in plan


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        (">", 1500, {"above"}),
        (">=", 1500, {"at", "above"}),
        ("<", 1500, {"below", "refund"}),
        ("<=", -0.02, set()),
        ("between", [1499.99, 1500], {"below", "at"}),
    ],
)
def test_average_order_value_is_the_same_inside_or_and_not(
    engine: Engine, operator: str, value: Any, expected: set[str]
) -> None:
    """Both engines answer a plain average test from the truncated average and keep the
    exact old form under OR and NOT: every shape must select the same customers."""
    ids = insert_people(engine, _average_people())
    names = {i: e.split("@")[0] for e, i in ids.items()}
    everyone = set(names.values())
    test = cond("avg_order_value", operator, value)
    nobody = cond("email", "=", "nobody@x.in")
    shapes = {
        "plain": (where(test), expected),
        "or": (where(test, nobody, combinator="or"), expected),
        "not": ({**where(test), "not": True}, everyone - expected),
        "not not": ({"combinator": "and", "not": True,
                     "rules": [{**where(test), "not": True}]}, expected),
    }
    for label, (rule, wanted) in shapes.items():
        found = audience(engine, rule)
        assert {names[i] for i in found} == wanted, label


def test_sqlite_average_order_value_seeks_the_truncated_average(sqlite_engine: Engine) -> None:
    insert_people(sqlite_engine, _average_people())
    optimize_database(sqlite_engine)
    rule = parse_rule(where(cond("avg_order_value", ">", 1500)))
    sql = str(count_statement(compile_rule(rule, None, "sqlite")).compile(sqlite_engine))
    # Not a multiplication for every customer with orders: a range of the truncated average.
    assert "customers.avg_order_minor >= " in sql
    wrong = ("SELECT count(*) FROM customers WHERE avg_order_minor IS NOT (CASE WHEN "
             "order_count > 0 THEN total_spend_minor / order_count END)")
    with sqlite_engine.connect() as conn:
        # The stored column really is the truncated average (NULL without orders).
        assert conn.exec_driver_sql(wrong).scalar() == 0
    with sqlite_engine.begin() as conn:
        # Writers that do not set it (plain SQL here) are corrected by the triggers.
        conn.exec_driver_sql(
            "INSERT INTO customers (email, email_norm, signup_date, total_spend_minor, "
            "order_count) VALUES ('t@x.in', 't@x.in', '2026-01-01 00:00:00.000000', -7, 2)")
        conn.exec_driver_sql("UPDATE customers SET total_spend_minor = total_spend_minor + 1, "
                             "order_count = order_count + 1 WHERE email_norm <> 't@x.in'")
        conn.exec_driver_sql("UPDATE customers SET avg_order_minor = 12345")
        assert conn.exec_driver_sql(wrong).scalar() == 0
        assert conn.exec_driver_sql(
            "SELECT avg_order_minor FROM customers WHERE email_norm = 't@x.in'").scalar() == -3
    assert "COVERING INDEX ix_customers_avg_order_minor (avg_order_minor>?)" in _plan(
        sqlite_engine, where(cond("avg_order_value", ">", 1500)))
    # Under an OR the exact form stays, read from an index holding total and count.
    sql_or = str(compile_rule(parse_rule(where(
        cond("avg_order_value", ">", 1500), cond("city", "=", "Pune"), combinator="or")),
        None, "sqlite").compile(sqlite_engine))
    assert "avg_order_minor" not in sql_or


def test_mysql_lapsed_big_spenders_seek_the_last_order_index(mysql_engine: Engine) -> None:
    """"Lapsed 6 months and spent over ₹5,000" reads the customers whose last order is old
    (ix_customers_last_order_spend, migration 0020), not everyone over the spend."""
    recent, old = at("2026-08-01T00:00:00"), at("2025-01-01T00:00:00")
    people = (
        [Person(email=f"recent{i}@x.in", orders=[(600_000, recent)]) for i in range(40)]
        + [Person(email=f"lapsed{i}@x.in", orders=[(500_001 + i, old)]) for i in range(3)]
        + [Person(email=f"small{i}@x.in", orders=[(500_000, old)]) for i in range(3)]
        + [Person(email=f"never{i}@x.in") for i in range(10)]
    )
    ids = insert_people(mysql_engine, people)
    optimize_database(mysql_engine)
    rule = where(cond("last_order_date", "notWithinLast", {"amount": 6, "unit": "months"}),
                 cond("total_spend", ">", 5000))
    assert audience(mysql_engine, rule) == {ids[f"lapsed{i}@x.in"] for i in range(3)}
    stmt = count_statement(compile_rule(parse_rule(rule), AS_OF, "mysql"))
    compiled = stmt.compile(mysql_engine)
    with mysql_engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN FORMAT=JSON " + compiled.string,
                                    compiled.params).scalar_one()
    assert '"key": "ix_customers_last_order_spend"' in plan
    assert '"using_index": true' in plan


def test_mysql_last_order_spend_index_comes_and_goes_with_migration_0020(
    mysql_engine: Engine,
) -> None:
    def names() -> set[str]:
        return {str(ix["name"]) for ix in inspect(mysql_engine).get_indexes("customers")}

    assert LAST_ORDER_SPEND_INDEX in names()
    script = ScriptDirectory.from_config(alembic_config(mysql_engine))
    before = script.get_revision("0020").down_revision  # 0018, or whatever it is rebased on
    assert isinstance(before, str)
    downgrade_to(mysql_engine, before)
    assert LAST_ORDER_SPEND_INDEX not in names()
    upgrade_to_head(mysql_engine)
    assert LAST_ORDER_SPEND_INDEX in names()
    assert [ix["column_names"] for ix in inspect(mysql_engine).get_indexes("customers")
            if ix["name"] == LAST_ORDER_SPEND_INDEX] == [["last_order_at", "total_spend_minor"]]


def _customer_index_columns(engine: Engine) -> dict[str, list[str]]:
    return {str(ix["name"]): [str(c) for c in ix["column_names"]]
            for ix in inspect(engine).get_indexes("customers")}


def _assert_mysql_index_comes_and_goes(
    engine: Engine, name: str, columns: list[str], before: str,
    check_down: Callable[[], None] = lambda: None,
) -> None:
    """A MySQL-only customers index made by the revision after `before`: present at head,
    gone below it (`check_down` then looks further). Stepping down without it (a bulk load
    set it aside) and up with it (start-up restored it) both succeed."""
    assert _customer_index_columns(engine)[name] == columns
    downgrade_to(engine, before)
    assert name not in _customer_index_columns(engine)
    check_down()
    upgrade_to_head(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP INDEX {name} ON customers")
    downgrade_to(engine, before)
    assert name not in _customer_index_columns(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE INDEX {name} ON customers ({', '.join(columns)})")
    upgrade_to_head(engine)
    assert _customer_index_columns(engine)[name] == columns


def test_mysql_last_order_activity_index_comes_and_goes_with_migration_0022(
    mysql_engine: Engine,
) -> None:
    spend = ["last_order_at", "total_spend_minor"]

    def spend_index_kept() -> None:
        assert _customer_index_columns(mysql_engine)[LAST_ORDER_SPEND_INDEX] == spend

    _assert_mysql_index_comes_and_goes(
        mysql_engine, LAST_ORDER_ACTIVITY_INDEX,
        ["last_order_at", "total_spend_minor", "order_count", "subscribed"], "0021",
        check_down=spend_index_kept)
    spend_index_kept()


def test_mysql_order_count_walk_index_comes_and_goes_with_migration_0027(
    mysql_engine: Engine,
) -> None:
    _assert_mysql_index_comes_and_goes(
        mysql_engine, ORDER_COUNT_WALK_INDEX, ["order_count", "subscribed", "last_order_at"],
        "0026")


def test_sqlite_order_count_consent_index_comes_and_goes_with_migration_0023(
    sqlite_engine: Engine,
) -> None:
    engine = sqlite_engine

    def columns() -> dict[str, list[str]]:
        return {str(ix["name"]): [str(c) for c in ix["column_names"]]
                for ix in inspect(engine).get_indexes("customers")}

    def analyzed() -> bool:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1 WHERE idx = ?",
                                        (ORDER_COUNT_CONSENT_INDEX,)).scalar_one() > 0

    wide = ["order_count", "subscribed", "last_order_us", "total_spend_minor"]
    assert columns()[ORDER_COUNT_CONSENT_INDEX] == wide
    insert_people(engine, edge_people())
    optimize_database(engine)
    downgrade_to(engine, "0022")
    assert ORDER_COUNT_CONSENT_INDEX not in columns()
    upgrade_to_head(engine)
    assert columns()[ORDER_COUNT_CONSENT_INDEX] == wide
    assert analyzed()  # statistics beside the other indexes' (the planner picks it)
    # Stepping down without it (a bulk load set it aside) and up with it (start-up
    # restored it) both succeed.
    extra = next(ix for ix in ENGINE_INDEXES if ix.name == ORDER_COUNT_CONSENT_INDEX)
    with engine.begin() as conn:
        conn.exec_driver_sql(extra.drop_sql)
    downgrade_to(engine, "0022")
    with engine.begin() as conn:
        conn.exec_driver_sql(extra.create_sql)
    upgrade_to_head(engine)
    assert columns()[ORDER_COUNT_CONSENT_INDEX] == wide


def test_sqlite_spend_consent_index_replaces_spend_activity_with_migration_0026(
    sqlite_engine: Engine,
) -> None:
    """SQLite's spend index holds consent, count and the integer last order (0026) instead
    of the text last_order_at; down, the old one comes back; up again with or without the
    new one (a bulk load may have set it aside), and start-up restores it, never the old."""
    from minicrm_desktop.services.bulkload.indexes import restore_missing_indexes

    engine = sqlite_engine

    def columns() -> dict[str, list[str]]:
        return {str(ix["name"]): [str(c) for c in ix["column_names"]]
                for ix in inspect(engine).get_indexes("customers")}

    new = ["total_spend_minor", "subscribed", "order_count", "last_order_us"]
    old = ["total_spend_minor", "last_order_at", "order_count", "subscribed"]
    assert columns()[SPEND_CONSENT_INDEX] == new
    assert SPEND_ACTIVITY_INDEX not in columns()
    insert_people(engine, edge_people())
    optimize_database(engine)
    downgrade_to(engine, "0025")
    assert columns()[SPEND_ACTIVITY_INDEX] == old
    assert SPEND_CONSENT_INDEX not in columns()
    upgrade_to_head(engine)
    assert columns()[SPEND_CONSENT_INDEX] == new
    assert SPEND_ACTIVITY_INDEX not in columns()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1 WHERE idx = ?",
                                    (SPEND_CONSENT_INDEX,)).scalar_one() > 0
    extra = next(ix for ix in ENGINE_INDEXES if ix.name == SPEND_CONSENT_INDEX)
    with engine.begin() as conn:
        conn.exec_driver_sql(extra.drop_sql)
    assert restore_missing_indexes(engine) == [SPEND_CONSENT_INDEX]
    assert SPEND_ACTIVITY_INDEX not in columns()


def test_mysql_keeps_its_spend_activity_index(mysql_engine: Engine) -> None:
    """MySQL/MariaDB keep ix_customers_spend_activity (engine-only since migration 0026),
    and start-up restores it like the ORM's; 0026 changes nothing there."""
    from minicrm_desktop.services.bulkload.indexes import restore_missing_indexes

    def columns() -> dict[str, list[str]]:
        return {str(ix["name"]): [str(c) for c in ix["column_names"]]
                for ix in inspect(mysql_engine).get_indexes("customers")}

    old = ["total_spend_minor", "last_order_at", "order_count", "subscribed"]
    assert columns()[SPEND_ACTIVITY_INDEX] == old
    assert SPEND_CONSENT_INDEX not in columns()
    downgrade_to(mysql_engine, "0025")
    upgrade_to_head(mysql_engine)
    assert columns()[SPEND_ACTIVITY_INDEX] == old
    with mysql_engine.begin() as conn:
        conn.exec_driver_sql(f"DROP INDEX {SPEND_ACTIVITY_INDEX} ON customers")
    assert SPEND_ACTIVITY_INDEX in restore_missing_indexes(mysql_engine)
    assert columns()[SPEND_ACTIVITY_INDEX] == old


def test_sqlite_has_no_last_order_spend_index(sqlite_engine: Engine) -> None:
    names = {str(ix["name"]) for ix in inspect(sqlite_engine).get_indexes("customers")}
    assert LAST_ORDER_SPEND_INDEX not in names
    assert LAST_ORDER_ACTIVITY_INDEX not in names


# -- two-sided ranges as one BETWEEN (MySQL/MariaDB) -------------------------------------------

_SIGNUPS = {
    "a": "2024-12-31T23:59:59.999999", "b": "2025-01-01T00:00:00", "c": "2025-06-01T12:00:00",
    "d": "2025-12-31T23:59:59", "e": "2025-12-31T23:59:59.999999", "f": "2026-01-01T00:00:00",
    "g": "2026-01-01T00:00:00.000001",
}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (cond("signup_date", "between", ["2025-01-01", "2025-12-31"]), "bcde"),
        (cond("signup_date", "notBetween", ["2025-01-01", "2025-12-31"]), "afg"),
        (cond("signup_date", "=", "2025-12-31"), "de"),
        (cond("signup_date", "=", "2025-12-31T08:00:00Z"), "de"),
        (cond("signup_date", "!=", "2025-12-31"), "abcfg"),
        (cond("signup_date", "between", ["2025-01-01T00:00:00Z", "2026-01-01"]), "bcdefg"),
        (cond("signup_date", "between", ["2025-06-01T12:00:00Z", "2025-06-01T12:00:00Z"]), "c"),
        (cond("total_spend", "between", [100, 200]), "bcd"),
        (cond("total_spend", "notBetween", [100, 200]), "aefg"),
        (cond("order_count", "between", [1, 1]), "abcdefg"),
        (cond("order_count", "between", [0, 0]), ""),
    ],
)
def test_two_sided_ranges_keep_their_ends(engine: Engine, rule: dict[str, Any],
                                          expected: str) -> None:
    """Each end of a range, an instant away from its neighbours (a microsecond) or a paisa:
    the same customers on both engines, whether the range is two comparisons (SQLite) or
    one BETWEEN of inclusive ends (MySQL/MariaDB, each exclusive end moved one step in)."""
    spends = {"a": 9_999, "b": 10_000, "c": 15_000, "d": 20_000, "e": 20_001, "f": 0, "g": 1}
    people = [Person(email=f"{k}@x.in", signup_date=at(v), orders=[(spends[k], at(v))])
              for k, v in _SIGNUPS.items()]
    ids = insert_people(engine, people)
    tree = where(rule)
    assert audience(engine, tree) == {ids[f"{k}@x.in"] for k in expected}
    negated = {"combinator": "and", "not": True, "rules": [rule]}
    assert audience(engine, negated) == {ids[f"{k}@x.in"] for k in _SIGNUPS if k not in expected}


def test_mysql_two_sided_ranges_are_one_between_of_the_index(mysql_engine: Engine) -> None:
    """"Signed up in 2025" on MariaDB: one BETWEEN, its exclusive end (next year's 00:00)
    a microsecond earlier, still a range of ix_customers_signup_date read from the index."""
    insert_people(mysql_engine, edge_people())
    optimize_database(mysql_engine)
    rule = parse_rule(where(cond("signup_date", "between", ["2025-01-01", "2025-12-31"])))
    stmt = count_statement(compile_rule(rule, AS_OF, "mysql"))
    compiled = stmt.compile(mysql_engine)
    assert "customers.signup_date BETWEEN %(" in compiled.string, compiled.string
    assert ">=" not in compiled.string, compiled.string
    assert "<" not in compiled.string, compiled.string
    ends = sorted(v for v in compiled.params.values() if isinstance(v, datetime))
    assert ends == [utc(2025, 1, 1), datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]
    with mysql_engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN FORMAT=JSON " + compiled.string,
                                    compiled.params).scalar_one()
    assert '"key": "ix_customers_signup_date"' in plan, plan
    assert '"access_type": "range"' in plan, plan
    # SQLite keeps its two comparisons of the integer instant (its own index).
    sqlite_sql = str(count_statement(compile_rule(rule, AS_OF, "sqlite")).compile())
    assert "BETWEEN" not in sqlite_sql, sqlite_sql


def test_inclusive_ends_step_inward_or_give_up() -> None:
    from datetime import timedelta

    from minicrm_desktop.services.segments.compiler import _Bound, _inclusive

    start, end = utc(2025, 1, 1), utc(2026, 1, 1)
    micro = timedelta(microseconds=1)
    assert _inclusive(_Bound(start, True), _Bound(end, False)) == (start, end - micro)
    assert _inclusive(_Bound(start, False), _Bound(end, True)) == (start + micro, end)
    assert _inclusive(_Bound(5, False), _Bound(9, False)) == (6, 8)
    assert _inclusive(None, _Bound(9, True)) is None
    assert _inclusive(_Bound(None, False), _Bound(9, True)) is None
    assert _inclusive(_Bound(start, True), _Bound(9, True)) is None  # mixed kinds
    assert _inclusive(_Bound(start, True), _Bound(datetime.min.replace(tzinfo=UTC), False)) \
        is None  # no instant before the first one
