"""Generated CSV files mixing valid rows with every kind of bad cell: after the import exactly
the valid rows are in the database, as a plain Python model of the contract says, and each
bad row is reported by its line. On SQLite and MariaDB."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.importing import ImportReport, import_customers, import_orders
from tests.examples import examples
from tests.helpers import assert_aggregates_consistent, assert_tags_consistent

NOW = datetime(2026, 12, 2, 9, 30, 15, tzinfo=UTC)
MODEL_SETTINGS = settings(
    max_examples=examples(40), derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Cell:
    """A cell's text, whether the contract accepts it, and the value it stands for."""

    text: str
    ok: bool
    value: Any = None


_SAME = object()


def good(text: str, value: Any = _SAME) -> Cell:
    return Cell(text, True, text if value is _SAME else value)


def bad(text: str) -> Cell:
    return Cell(text, False)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


EMAIL_KEYS = ["asha", "raj", "zoë", "renée", "x_y"]


def _email(key: str, variant: int) -> Cell:
    spelled = [key, key.upper(), unicodedata.normalize("NFD", key)][variant]
    return good(f"{spelled}@example.com", unicodedata.normalize("NFC", key) + "@example.com")


emails = st.one_of(
    st.builds(_email, st.sampled_from(EMAIL_KEYS), st.integers(0, 2)),
    st.sampled_from([bad(""), bad("not-an-email"), bad("nul\x00@example.com"),
                     bad("bell\x07@example.com"), bad("a@b@example.com")]),
)
names = st.sampled_from([
    good("Asha Rao"), good("Zoë Müller"), good("Rene\u0301e", "Renée"), good("Tab\tName"),
    good("", None), good("  padded  ", "padded"), good("İlker"),
    bad("Nul\x00Name"), bad("Line\nbreak"), bad("Carriage\rreturn"), bad("Esc\x1b"),
    bad("C1\x85"), bad("x" * 256), bad("İ" * 200),  # 400 characters once lower-cased
])
cities = st.sampled_from([good("Pune"), good("MÜNCHEN"), good("Orle\u0301ans", "Orléans"),
                          good("", None), bad("Pu\x00ne"), bad("Del\x7fhi")])
visits = st.sampled_from([
    good("", 0), good("0", 0), good("7", 7), good("2147483647", 2147483647), good("007", 7),
    bad("2147483648"), bad("99999999999999999999999"), bad("-1"), bad("1.5"), bad("many"),
    bad("५"), bad("٣"), bad("1,000"), bad("0" * 5000 + "1" + "0" * 10),
])
signups = st.sampled_from([
    good("", NOW), good("2024-03-01", at("2024-03-01T00:00:00+00:00")),
    good("2025-01-15T10:00:00+05:30", at("2025-01-15T04:30:00+00:00")),
    good("2025-01-15 10:00:00.999Z", at("2025-01-15T10:00:00+00:00")),
    good("1900-01-01", at("1900-01-01T00:00:00+00:00")),
    good("2999-12-31T23:59:59Z", at("2999-12-31T23:59:59+00:00")),
    bad("0001-01-01T00:00:00+01:00"), bad("9999-12-31T23:59:59"), bad("1899-12-31T23:59:59"),
    bad("2999-12-31T23:59:59-00:01"), bad("20260501"), bad("2026-W01-1"), bad("2026-02-30"),
    bad("٢٠٢٦-01-01"), bad("yesterday"),
])
subscribed = st.sampled_from([good("", True), good("YES", True), good("no", False),
                              good("1", True), good("0", False), bad("maybe")])
tags = st.sampled_from([
    good("", frozenset()), good("vip|newsletter", frozenset({"vip", "newsletter"})),
    good(" VIP | |Vip", frozenset({"vip"})), good("Früh", frozenset({"früh"})),
    bad("vip|bad\x00tag"), bad("x" * 256),
])
COLUMNS = {"email": emails, "name": names, "city": cities, "visits": visits,
           "signup_date": signups, "subscribed": subscribed, "tags": tags}

customer_rows = st.lists(st.fixed_dictionaries(COLUMNS), min_size=1, max_size=30)


def write_rows(path: Path, header: list[str], rows: list[dict[str, Cell]]) -> list[int]:
    """Write the file; return the line each row starts on (quoted line breaks span lines)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # quotes cells holding \r or \n
    writer.writerow(header)
    starts, line = [], 2
    for row in rows:
        starts.append(line)
        before = out.tell()
        writer.writerow([row[c].text for c in header])
        # The reader counts lines as Python's universal newlines do: \r\n, \r or \n.
        line += len(re.findall(r"\r\n|\r|\n", out.getvalue()[before:]))
    path.write_bytes(out.getvalue().encode("utf-8", "surrogatepass"))
    return starts


def expect_customers(rows: list[dict[str, Cell]], starts: list[int]) -> tuple[
        dict[str, dict[str, Any]], set[int]]:
    """The contract, read plainly: valid rows upsert by NFC, lower-cased email, in order."""
    people: dict[str, dict[str, Any]] = {}
    rejected = set()
    for row, line in zip(rows, starts, strict=True):
        if not all(cell.ok for cell in row.values()):
            rejected.add(line)
            continue
        key = row["email"].value.lower()
        person = people.setdefault(key, {"signup_date": NOW})
        person["email"] = unicodedata.normalize("NFC", row["email"].text)
        for column in ("name", "city", "visits", "subscribed", "tags"):
            person[column] = row[column].value
        if row["signup_date"].text:  # empty: a new customer's is "now", a known one keeps it
            person["signup_date"] = row["signup_date"].value
    return people, rejected


def stored_customers(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        found = {
            r.email_norm: {"email": r.email, "name": r.name, "city": r.city, "visits": r.visits,
                           "subscribed": bool(r.subscribed),
                           "signup_date": r.signup_date.replace(tzinfo=UTC)
                           if isinstance(r.signup_date, datetime)
                           else at(str(r.signup_date) + "+00:00"),
                           "tags": frozenset()}
            for r in conn.execute(text("SELECT * FROM customers"))
        }
        for email, tag in conn.execute(text(
                "SELECT c.email_norm, t.name_norm FROM customer_tags ct "
                "JOIN customers c ON c.id = ct.customer_id JOIN tags t ON t.id = ct.tag_id")):
            found[email]["tags"] = found[email]["tags"] | {tag}
    return found


def empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in ("customer_tags", "orders", "customers", "tags"):
            conn.execute(text(f"DELETE FROM {table}"))


def rejected_lines(report: ImportReport, rows: list[dict[str, Cell]],
                   starts: list[int]) -> None:
    """Each rejection names its row's line and one of its bad columns."""
    by_line = dict(zip(starts, rows, strict=True))
    for r in report.rejected:
        assert r.column in {c for c, cell in by_line[r.line].items() if not cell.ok}, r


@MODEL_SETTINGS
@given(rows=customer_rows)
def test_customers_import_takes_exactly_the_valid_rows(engine: Engine, tmp_path: Path,
                                                       rows: list[dict[str, Cell]]) -> None:
    empty(engine)
    path = tmp_path / "customers.csv"
    starts = write_rows(path, list(COLUMNS), rows)
    report = import_customers(engine, path, actor=LOCAL_ADMIN, now=NOW, batch_size=7)
    expected, rejected = expect_customers(rows, starts)
    assert {r.line for r in report.rejected} == rejected
    assert len(report.rejected) == len(rejected)
    rejected_lines(report, rows, starts)
    assert report.imported == len(expected)
    assert stored_customers(engine) == expected
    assert_tags_consistent(engine)


CUSTOMERS = ["asha@example.com", "renée@example.com"]
amounts = st.sampled_from([
    good("0", 0), good("5000", 500000), good("5000.5", 500050), good("0.05", 5),
    good("10000000000", 10**12), good("10000000000.00", 10**12),
    bad("10000000000.01"), bad("99999999999999999999"), bad("-5"), bad("1,000"), bad("₹100"),
    bad("1.234"), bad("٢٠٠"), bad("५०"), bad(""), bad("9" * 5000),
])
order_dates = st.sampled_from([
    good("2025-01-10", at("2025-01-10T00:00:00+00:00")),
    good("2025-06-01T18:45:00+05:30", at("2025-06-01T13:15:00+00:00")),
    bad("0001-01-01T00:00:00+01:00"), bad("9999-12-31T23:59:59"), bad("20250110"), bad(""),
])
owners = st.sampled_from([good("asha@example.com"), good("ASHA@example.com", "asha@example.com"),
                          good("rene\u0301e@example.com", "renée@example.com"),
                          bad("nobody@example.com"), bad("asha\x00@example.com")])
order_ids = st.sampled_from([good("O-1"), good("O-2"), good("O-3"), good("O-4"), bad(""),
                             bad("O\x005")])
ORDER_COLUMNS = {"order_id": order_ids, "customer_email": owners, "amount": amounts,
                 "order_date": order_dates}


@MODEL_SETTINGS
@given(rows=st.lists(st.fixed_dictionaries(ORDER_COLUMNS), min_size=1, max_size=25))
def test_orders_import_takes_exactly_the_valid_rows(engine: Engine, tmp_path: Path,
                                                    rows: list[dict[str, Cell]]) -> None:
    empty(engine)
    customers = tmp_path / "customers.csv"
    customers.write_text("email\n" + "\n".join(CUSTOMERS) + "\n", encoding="utf-8")
    import_customers(engine, customers, actor=LOCAL_ADMIN, now=NOW)
    path = tmp_path / "orders.csv"
    starts = write_rows(path, list(ORDER_COLUMNS), rows)
    report = import_orders(engine, path, actor=LOCAL_ADMIN, batch_size=6)

    orders: dict[str, tuple[str, int, datetime]] = {}
    rejected = set()
    for row, line in zip(rows, starts, strict=True):
        if not all(cell.ok for cell in row.values()):
            rejected.add(line)
            continue
        orders[row["order_id"].value] = (row["customer_email"].value, row["amount"].value,
                                         row["order_date"].value)
    assert {r.line for r in report.rejected} == rejected
    rejected_lines(report, rows, starts)
    with engine.connect() as conn:
        stored = {
            r[0]: (r[1], int(r[2]), r[3] if isinstance(r[3], datetime) else at(f"{r[3]}+00:00"))
            for r in conn.execute(text(
                "SELECT o.order_id, c.email_norm, o.amount_minor, o.order_date FROM orders o "
                "JOIN customers c ON c.id = o.customer_id"))
        }
        totals: dict[str, int] = dict(conn.execute(text(
            "SELECT email_norm, total_spend_minor FROM customers")).all())
    stored = {k: (e, a, d.replace(tzinfo=UTC)) for k, (e, a, d) in stored.items()}
    assert stored == orders
    assert totals == {c: sum(a for e, a, _ in orders.values() if e == c) for c in CUSTOMERS}
    assert_aggregates_consistent(engine)
