"""Forgiving imports that never guess silently: the format report names what a file holds,
the importer reads it that way only when asked, and the strict default refuses it as
before. Generated files in each format, on SQLite and MariaDB."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.importing import import_customers, import_orders
from minicrm_desktop.services.importing import values as v
from minicrm_desktop.services.importing.detect import detect_format
from minicrm_desktop.services.importing.kinds import (
    CUSTOMER_FIELDS,
    ORDER_FIELDS,
    WrongKindError,
)
from minicrm_desktop.services.importing.options import ImportOptions
from tests.examples import examples
from tests.helpers import write_csv

FORMAT_SETTINGS = settings(
    max_examples=examples(12), derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_serial = itertools.count()

# --- a Python model of the formats ----------------------------------------------------------

SIGNS = ("", "₹", "₹ ", "Rs", "Rs ", "Rs.", "Rs. ", "INR ", "INR")


def western(whole: int) -> str:
    return f"{whole:,}"


def indian(whole: int) -> str:
    digits = str(whole)
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    pairs: list[str] = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *pairs, tail])


@dataclass(frozen=True)
class Amount:
    minor: int
    grouping: str  # plain, western, indian
    sign: str
    decimals: bool

    @property
    def cell(self) -> str:
        whole, frac = divmod(self.minor, 100)
        group: dict[str, Callable[[int], str]] = {"plain": str, "western": western,
                                                  "indian": indian}
        body = group[self.grouping](whole)
        if self.decimals:
            body += f".{frac:02d}"
        return self.sign + body

    @property
    def value(self) -> int:
        return self.minor if self.decimals else self.minor // 100 * 100

    @property
    def plain(self) -> bool:
        return not self.sign and (self.grouping == "plain" or "," not in self.cell)


amounts = st.builds(
    Amount,
    minor=st.one_of(st.integers(0, 99_999_99), st.integers(0, 10**12)),
    grouping=st.sampled_from(["plain", "western", "indian"]),
    sign=st.sampled_from(SIGNS),
    decimals=st.booleans(),
)


def strict_reason(cell: str, parse: Callable[[str], object]) -> str:
    try:
        parse(cell)
    except ValueError as exc:
        return str(exc)
    raise AssertionError(f"{cell!r} is accepted by the strict reading")


def orders_csv(path: Path, email: str, prefix: str, cells: list[str]) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["order_id", "customer_email", "amount", "order_date"])
    for i, cell in enumerate(cells):
        writer.writerow([f"{prefix}-{i}", email, cell, "2025-01-01"])
    return write_csv(path, out.getvalue())


def stored_amounts(engine: Engine, prefix: str) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT order_id, amount_minor FROM orders WHERE order_id LIKE :p"),
            {"p": f"{prefix}-%"},
        )
        return {str(r[0]): int(r[1]) for r in rows}


@FORMAT_SETTINGS
@given(st.lists(amounts, min_size=1, max_size=12))
def test_amounts_detected_and_read_as_proposed(
    engine: Engine, tmp_path: Path, cells: list[Amount]
) -> None:
    n = next(_serial)
    email = f"buyer{n}@example.com"
    import_customers(engine, write_csv(tmp_path / f"c{n}.csv", f"email\n{email}\n"),
                     actor=LOCAL_ADMIN)
    path = orders_csv(tmp_path / f"o{n}.csv", email, f"A{n}", [a.cell for a in cells])

    report = detect_format(path, "orders", whole_file=True)
    column = next(c for c in report.columns if c.field == "amount")
    assert report.problem is None
    lenient = any(not a.plain for a in cells)
    assert report.options == ImportOptions(amounts="lenient" if lenient else "strict")
    indian_seen = any(a.grouping == "indian" and a.minor >= 100_000_00 for a in cells)
    western_seen = any(a.grouping == "western" and a.minor >= 100_000_00 for a in cells)
    assert ("Indian grouping" in column.detected) == indian_seen
    assert ("Western" in column.detected) == western_seen
    if any(a.grouping != "plain" and a.minor >= 1000_00 for a in cells):
        assert "grouping" in column.detected or "thousands separators" in column.detected
    for sign in {a.sign.strip() for a in cells if a.sign}:
        assert sign in column.detected
    if lenient:
        assert " reads as " in column.proposal
        shown = next(e for e in column.examples if e.cell in column.proposal)
        model = next(a for a in cells if a.cell == shown.cell)
        assert shown.reads_as == f"{model.value // 100}.{model.value % 100:02d}"
    assert column.unreadable_count == 0

    # The strict default refuses every formatted cell, line by line, as it always has.
    strict = import_orders(engine, path, actor=LOCAL_ADMIN)
    refused = [(r.line, r.column, r.reason) for r in strict.rejected]
    assert refused == [
        (i + 2, "amount", strict_reason(a.cell, v.parse_amount_cell))
        for i, a in enumerate(cells) if not a.plain
    ]
    # Read as proposed: every row in, each with exactly the model's value.
    taken = import_orders(engine, path, actor=LOCAL_ADMIN, options=report.options)
    assert taken.rejected == []
    assert stored_amounts(engine, f"A{n}") == {f"A{n}-{i}": a.value for i, a in enumerate(cells)}
    # The rows strict took are there already, with the same values: unchanged.
    assert (taken.imported, taken.updated, taken.unchanged) == (
        len(strict.rejected), 0, strict.rows_taken)


# --- dates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    day: date
    clock: tuple[int, int, int] | None

    def cell(self, order: str, sep: str) -> str:
        d = self.day
        if order == "ISO":
            text_ = d.isoformat()
        else:
            first, second = (d.day, d.month) if order == "DMY" else (d.month, d.day)
            text_ = f"{first:02d}{sep}{second:02d}{sep}{d.year}"
        if self.clock:
            text_ += " {:02d}:{:02d}:{:02d}".format(*self.clock)
        return text_

    @property
    def value(self) -> datetime:
        h, m, s = self.clock or (0, 0, 0)
        return datetime(self.day.year, self.day.month, self.day.day, h, m, s, tzinfo=UTC)


days = st.builds(
    Day,
    day=st.dates(date(1950, 1, 1), date(2090, 12, 31)),
    clock=st.none() | st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 59)),
)
# Files whose dates all read either way (day and month both at most 12) come up often.
small_days = st.builds(
    Day,
    day=st.builds(date, st.integers(1950, 2090), st.integers(1, 12), st.integers(1, 12)),
    clock=st.none(),
)


def signup_dates(engine: Engine, prefix: str) -> dict[str, datetime]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT email_norm, signup_date FROM customers WHERE email_norm LIKE :p"),
            {"p": f"{prefix}-%"},
        )
        out = {}
        for email, when in rows:
            when = datetime.fromisoformat(when) if isinstance(when, str) else when
            out[str(email)] = when.replace(tzinfo=UTC)
        return out


@FORMAT_SETTINGS
@given(
    st.lists(st.one_of(days, small_days), min_size=1, max_size=10),
    st.sampled_from(["ISO", "DMY", "MDY"]),
    st.sampled_from("/-."),
)
def test_date_order_detected_and_read_as_chosen(
    engine: Engine, tmp_path: Path, dates: list[Day], order: str, sep: str
) -> None:
    n = next(_serial)
    prefix = f"d{n}"
    cells = [d.cell(order, sep) for d in dates]
    body = "".join(f"{prefix}-{i}@example.com,{c}\n" for i, c in enumerate(cells))
    path = write_csv(tmp_path / f"{prefix}.csv", "email,signup_date\n" + body)

    report = detect_format(path, "customers", whole_file=True)
    proving = [i for i, d in enumerate(dates) if d.day.day > 12]
    if order == "ISO":
        assert report.date_order == "ISO"
        assert not report.needs_date_choice
    elif proving:
        assert report.date_order == order
        assert not report.needs_date_choice
        proof = report.date_proof[order]
        assert proof.line == proving[0] + 2  # the first row that settles it, by line
        assert f"line {proof.line} has {cells[proving[0]]}" in report.columns[0].proposal
    else:
        assert report.date_order == "ambiguous"
        assert report.needs_date_choice
        assert report.options.dates == "ISO"  # nothing chosen for the user
        assert "choose --dates DMY or --dates MDY" in report.columns[0].proposal
    chosen = report.options if report.date_order != "ambiguous" else ImportOptions(
        dates=order)  # type: ignore[arg-type]
    assert chosen.dates == order

    strict = import_customers(engine, path, actor=LOCAL_ADMIN)
    assert [(r.line, r.column, r.reason) for r in strict.rejected] == [] if order == "ISO" else [
        (i + 2, "signup_date", strict_reason(c, v.parse_timestamp)) for i, c in enumerate(cells)
    ]
    taken = import_customers(engine, path, actor=LOCAL_ADMIN, options=chosen)
    assert taken.rejected == []
    assert signup_dates(engine, prefix) == {
        f"{prefix}-{i}@example.com": d.value for i, d in enumerate(dates)
    }


def test_dates_in_both_orders_need_a_choice(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", "email,signup_date\n"
                     "a@example.com,01/02/2024\nb@example.com,31/01/2024\n"
                     "c@example.com,01/31/2024\n")
    report = detect_format(path, "customers")
    assert report.date_order == "mixed"
    assert report.needs_date_choice
    assert (report.date_proof["DMY"].line, report.date_proof["MDY"].line) == (3, 4)
    assert "line 3 has 31/01/2024" in report.columns[0].proposal
    assert "line 4 has 01/31/2024" in report.columns[0].proposal
    dmy = import_customers(sqlite_engine, path, actor=LOCAL_ADMIN,
                           options=ImportOptions(dates="DMY"))
    assert [(r.line, r.column) for r in dmy.rejected] == [(4, "signup_date")]
    assert "not a real day-first (DMY) date" in dmy.rejected[0].reason


# --- a file of the other kind -------------------------------------------------------------

PICKED_AS = {"orders": "customers", "customers": "orders"}  # the kind it is → the one picked


def _spelled(name: str) -> st.SearchStrategy[str]:
    """A column name as exports write it: any case, perhaps padded."""
    return st.tuples(st.sampled_from([str.lower, str.upper, str.title]),
                     st.sampled_from(["", " "])).map(lambda t: t[1] + t[0](name) + t[1])


@st.composite
def other_kind_files(draw: st.DrawFn) -> tuple[str, list[str], list[list[str]]]:
    """(kind it is, header, rows): the key column and some others in any order, with rows
    in the formats the preview offers to read (amounts, dates)."""
    kind = draw(st.sampled_from(["orders", "customers"]))
    fields = ORDER_FIELDS if kind == "orders" else CUSTOMER_FIELDS
    key = fields[0]
    others = draw(st.lists(st.sampled_from(fields[1:]), unique=True))
    names = draw(st.permutations([key, *others]))
    header = [draw(_spelled(n)) for n in names]
    rows = []
    for i in range(draw(st.integers(1, 5))):
        cells = {"order_id": f"X-{i}", "email": f"k{i}@example.com",
                 "customer_email": f"k{i}@example.com",
                 "amount": draw(amounts).cell,
                 "order_date": draw(days).cell(draw(st.sampled_from(["ISO", "DMY", "MDY"])), "/"),
                 "signup_date": draw(days).cell("DMY", "-")}
        rows.append([cells.get(n, "") for n in names])
    return kind, header, rows


@FORMAT_SETTINGS
@given(other_kind_files())
def test_a_file_of_the_other_kind_is_recognised_and_said(
    engine: Engine, tmp_path: Path, case: tuple[str, list[str], list[list[str]]]
) -> None:
    kind, header, rows = case
    picked = PICKED_AS[kind]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path = write_csv(tmp_path / f"k{next(_serial)}.csv", out.getvalue())
    article = "an orders" if kind == "orders" else "a customers"

    report = detect_format(path, picked)
    assert report.looks_like == kind
    assert report.problem is not None
    assert report.problem.startswith(f"this looks like {article} file (columns ")
    assert report.problem.endswith(f"not {picked}: import it with `minicrm import {kind}`")
    assert report.lines()[0].startswith(f"cannot import this file as {picked}: ")
    before = {t: _count(engine, t) for t in ("customers", "orders")}
    with pytest.raises(WrongKindError) as caught:
        (import_customers if picked == "customers" else import_orders)(
            engine, path, actor=LOCAL_ADMIN)
    assert str(caught.value) == report.problem
    assert {t: _count(engine, t) for t in ("customers", "orders")} == before  # nothing written


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
