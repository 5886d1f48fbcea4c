"""Issue 14's examples, one test each: a bad cell rejects its own row by line and column and
never its batch; text is clean NFC; the clock is settable; a failing database is reported
truthfully. On SQLite and MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text

from minicrm_desktop.models.money import format_money
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.bulkload.indexes import BULK_WAL_PAGES, bulk_load_shortfall
from minicrm_desktop.services.core.database import create_db_engine
from minicrm_desktop.services.importing import ImportReport, import_customers, import_orders
from minicrm_desktop.services.importing.batches import ImportInterrupted, write_rows
from minicrm_desktop.services.importing.customers import _write_batch as write_customers
from minicrm_desktop.services.importing.orders import within_totals
from tests.helpers import assert_aggregates_consistent, refused_visits_batch, write_csv


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def where_rejected(report: ImportReport) -> list[tuple[int, str | None]]:
    return [(r.line, r.column) for r in report.rejected]


def good_rows(n: int, start: int = 0) -> str:
    return "".join(f"good{i}@example.com,1,\n" for i in range(start, start + n))


def test_an_out_of_range_cell_rejects_its_row_not_the_batch(engine: Engine,
                                                            tmp_path: Path) -> None:
    content = (
        "email,visits,signup_date\n" + good_rows(3)
        + "huge@example.com,99999999999999999999999,\n"  # line 5
        + "max@example.com,2147483647,\n"
        + "over@example.com,2147483648,\n"  # line 7
        + "early@example.com,1,0001-01-01T00:00:00+01:00\n"  # line 8: UTC overflows
        + "late@example.com,1,9999-12-31T23:59:59\n"  # line 9: the app could not show it
        + "y1899@example.com,1,1899-12-31T23:59:59Z\n"  # line 10
        + "y1900@example.com,1,1899-12-31T23:00:00-01:00\n"
        + "y2999@example.com,1,2999-12-31T23:59:59Z\n"
        + "y3000@example.com,1,2999-12-31T23:00:00-01:00\n"  # line 13: 3000 in UTC
        + "deva@example.com,५,\n"  # line 14: Devanagari five
        + "arab@example.com,٣,\n"  # line 15: Arabic-Indic three
        + good_rows(3, start=3)
    )
    report = import_customers(engine, write_csv(tmp_path / "c.csv", content), actor=LOCAL_ADMIN,
                              batch_size=10_000)
    assert where_rejected(report) == [(5, "visits"), (7, "visits"), (8, "signup_date"),
                                      (9, "signup_date"), (10, "signup_date"),
                                      (13, "signup_date"), (14, "visits"), (15, "visits")]
    assert "out of range" in report.rejected[0].reason
    assert "2,147,483,647" in report.rejected[1].reason
    assert "1900-01-01 and 2999-12-31" in report.rejected[3].reason
    assert report.imported == 6 + 3
    assert rows(engine, "SELECT visits FROM customers WHERE email_norm = 'max@example.com'") == [
        (2147483647,)]


def test_an_out_of_range_amount_rejects_its_order_only(engine: Engine, tmp_path: Path) -> None:
    import_customers(engine, write_csv(tmp_path / "c.csv", "email\na@example.com\n"),
                     actor=LOCAL_ADMIN)
    content = (
        "order_id,customer_email,amount,order_date\n"
        "O-1,a@example.com,99999999999999999999,2026-01-01\n"
        "O-2,a@example.com,10000000000.00,2026-01-02\n"
        "O-3,a@example.com,10000000000.01,2026-01-03\n"
        "O-4,a@example.com,10000000000,2026-01-04\n"
        "O-5,a@example.com,٢٠٠,2026-01-05\n"
        f"O-6,a@example.com,{'9' * 5000},2026-01-06\n"
        "O-7,a@example.com,5,2026-01-07\n"
    )
    report = import_orders(engine, write_csv(tmp_path / "o.csv", content), actor=LOCAL_ADMIN)
    assert where_rejected(report) == [(2, "amount"), (4, "amount"), (6, "amount"),
                                      (7, "amount")]
    assert report.imported == 3
    # Two orders at the most an order may be: their sum is exact, nothing overflows.
    assert rows(engine, "SELECT total_spend_minor, order_count FROM customers") == [
        (2 * 10**12 + 500, 3)]
    assert_aggregates_consistent(engine)


def test_an_order_that_would_overflow_its_customers_total_is_the_one_rejected() -> None:
    """The check itself, with the limit made small: 9.2 million orders at the largest
    amount would be needed to reach 2**63 - 1 paise for real."""
    report = ImportReport(kind="orders")
    batch = [(2, {"order_id": "A", "customer_id": 1, "amount_minor": 60, "email": "a@x.in"}),
             (3, {"order_id": "B", "customer_id": 1, "amount_minor": 50, "email": "a@x.in"}),
             (4, {"order_id": "C", "customer_id": 2, "amount_minor": 50, "email": "b@x.in"}),
             (5, {"order_id": "D", "customer_id": 1, "amount_minor": 30, "email": "a@x.in"}),
             # Replaces its own 80: the customer's total goes down.
             (6, {"order_id": "E", "customer_id": 2, "amount_minor": 10, "email": "b@x.in"})]
    totals = {1: [0, 0], 2: [80, 1]}
    kept = within_totals(batch, {"E": (2, 80)}, totals, report, max_total=100)
    # Line 3 would take customer 1 to 110, line 4 customer 2 to 130; line 6 replaces the
    # order of 80 with one of 10.
    assert [line for line, _ in kept] == [2, 5, 6]
    assert where_rejected(report) == [(3, "amount"), (4, "amount")]
    assert format_money(100) in report.rejected[0].reason
    assert totals == {1: [90, 2], 2: [10, 1]}


def test_a_row_the_database_still_refuses_is_written_alone(engine: Engine) -> None:
    """The safety net under the checks: rows that pass validation yet fail in the database
    (here a count no column holds, built past the validator) cost only themselves."""
    batch = refused_visits_batch()  # row 30: MariaDB refuses it; SQLite stores it
    report = write_rows(engine, "customers", write_customers, batch, {"email", "visits"})
    refused = [17, 30] if engine.dialect.name != "sqlite" else [17]
    assert [r.line for r in report.rejected] == [i + 2 for i in refused]
    assert all("the database refused this row" in r.reason for r in report.rejected)
    assert report.imported == 40 - len(refused)
    stored = {r[0] for r in rows(engine, "SELECT email_norm FROM customers")}
    assert stored == {f"r{i}@example.com" for i in range(40) if i not in refused}


def test_control_characters_are_refused_and_text_is_nfc(engine: Engine, tmp_path: Path) -> None:
    content = (
        "email,name,city\n"
        "nul\x00@example.com,A,Pune\n"  # line 2
        "a@example.com,Nul\x00Name,Pune\n"  # line 3
        "b@example.com,B,Pu\x00ne\n"  # line 4
        "c@example.com,C\x07,Pune\n"  # line 5: BEL
        "d@example.com,D\x85,Pune\n"  # line 6: C1 next line
        "tab@example.com,Tab\there,Pune\n"
        "ren\u00e9@example.com,Ren\u00e9e,Orl\u00e9ans\n"  # composed
        "RENE\u0301@EXAMPLE.COM,Rene\u0301e,Orle\u0301ans\n"  # decomposed, other case
    )
    report = import_customers(engine, write_csv(tmp_path / "c.csv", content), actor=LOCAL_ADMIN)
    assert where_rejected(report) == [(2, "email"), (3, "name"), (4, "city"), (5, "name"),
                                      (6, "name")]
    assert "U+0000" in report.rejected[0].reason
    assert (report.imported, report.updated) == (2, 1)
    assert sorted(rows(engine, "SELECT email_norm, name, city FROM customers")) == [
        ("ren\u00e9@example.com", "Ren\u00e9e", "Orl\u00e9ans"),
        ("tab@example.com", "Tab\there", "Pune"),
    ]
    # The composed and decomposed spellings are one customer, kept in NFC.
    assert rows(engine, "SELECT email FROM customers WHERE email_norm LIKE 'ren%'") == [
        ("REN\u00c9@EXAMPLE.COM",)]


def test_orders_find_their_customer_whatever_the_normal_form(engine: Engine,
                                                             tmp_path: Path) -> None:
    import_customers(engine, write_csv(tmp_path / "c.csv", "email\nren\u00e9@example.com\n"),
                     actor=LOCAL_ADMIN)
    report = import_orders(engine, write_csv(
        tmp_path / "o.csv",
        "order_id,customer_email,amount,order_date\nO-1,RENE\u0301@example.com,5,2026-01-01\n",
    ), actor=LOCAL_ADMIN)
    assert (report.imported, report.rejected) == (1, [])


@pytest.mark.parametrize("when", ["20260501", "2026-W18-5", "2026-121", "2026-05-01T1000"])
def test_only_extended_iso_dates_are_read(sqlite_engine: Engine, tmp_path: Path,
                                          when: str) -> None:
    path = write_csv(tmp_path / "c.csv", f"email,signup_date\na@example.com,{when}\n")
    report = import_customers(sqlite_engine, path, actor=LOCAL_ADMIN)
    assert where_rejected(report) == [(2, "signup_date")]
    assert "expected an ISO 8601 date" in report.rejected[0].reason


def test_now_sets_the_signup_date_of_empty_cells(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", "email,signup_date\na@example.com,\nb@example.com,"
                     "2025-01-01T10:00:00.75Z\n")
    moment = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    import_customers(engine, path, actor=LOCAL_ADMIN, now=moment)
    found = dict(rows(engine, "SELECT email_norm, signup_date FROM customers"))
    # Fractions of a second are dropped, in the clock as in the data.
    assert str(found["a@example.com"]).startswith("2026-03-04 05:06:07")
    assert str(found["b@example.com"]).startswith("2025-01-01 10:00:00")
    assert ".75" not in str(found["b@example.com"])
    assert ".89" not in str(found["a@example.com"])


def test_a_bulk_load_needs_room_for_its_wal(sqlite_engine: Engine) -> None:
    import shutil

    folder = Path(str(sqlite_engine.url.database)).parent
    free = shutil.disk_usage(folder).free
    # More pages than the disk has room for: the load must fall back to normal batches.
    assert bulk_load_shortfall(sqlite_engine, wal_pages=free // 4096 + 1) is not None
    if free > BULK_WAL_PAGES * 4096 * 2:
        assert bulk_load_shortfall(sqlite_engine) is None


def test_a_database_that_fills_up_is_reported_with_how_far_the_import_got(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A real "database or disk is full": SQLite's page limit stands in for the disk."""
    engine = create_db_engine(sqlite_url)
    with engine.connect() as conn:
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())

    @event.listens_for(engine, "connect")
    def _limit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + 40}")

    engine.dispose()
    body = "".join(f"user{i}@example.com,{'x' * 200}\n" for i in range(3000))
    path = write_csv(tmp_path / "c.csv", "email,name\n" + body)
    with pytest.raises(ImportInterrupted) as caught:
        import_customers(engine, path, actor=LOCAL_ADMIN, batch_size=50)
    message = str(caught.value)
    assert "full" in message
    written = caught.value.report.imported
    assert 0 < written < 3000
    assert f"after {written} imported" in message
    check = create_engine(sqlite_url)
    assert rows(check, "SELECT COUNT(*) FROM customers") == [(written,)]
    check.dispose()
    engine.dispose()
