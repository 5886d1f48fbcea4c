"""The format report an import preview shows: what each amount and date column holds, and
what reading the import proposes, never applied without the user choosing it.

Qt-free and database-free: it reads the first rows of the file (or all of it, streamed) and
returns a `FormatReport`, whose `options` the importer applies once the user agrees. With
dates that read either way (`01/02/2024`) it proposes nothing and says the user must choose;
when some row settles the order (`31/12/2024`) it names that row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as _field
from datetime import datetime
from pathlib import Path
from typing import Literal

from ...errors import ImportFileError
from . import values as v
from .kinds import FIELDS, WrongKindError
from .lenient import amount_form, parse_lenient_amount, readings, slashed_parts
from .options import DateOrder, ImportOptions
from .reader import CsvSource

#: Rows read by default: enough for a preview, quick on any file.
SAMPLE_ROWS = 1000
AMOUNT_FIELDS = ("amount",)
DATE_FIELDS = ("signup_date", "last_visit", "order_date")
_SHOWN = 3  # examples kept per kind of finding

DateFinding = Literal["ISO", "DMY", "MDY", "ambiguous", "mixed"]
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


@dataclass(frozen=True)
class Example:
    """A cell of the file: its line, its text, and what the proposed reading makes of it."""

    line: int
    cell: str
    reads_as: str = ""


@dataclass
class ColumnFormat:
    """What one amount or date column holds."""

    column: str  # the header as written
    field: str
    detected: str  # e.g. "Indian grouping and ₹ signs"
    proposal: str  # e.g. "amounts: Indian grouping and ₹ signs — 1,00,000 reads as 100000.00"
    examples: list[Example] = _field(default_factory=list)
    unreadable: list[Example] = _field(default_factory=list)  # in no form either reading takes
    unreadable_count: int = 0
    date_order: DateFinding | None = None  # date columns: what their cells show


@dataclass
class FormatReport:
    kind: str
    columns: list[ColumnFormat] = _field(default_factory=list)
    #: The whole file's date order: ISO, DMY, MDY, ambiguous (every date reads either way),
    #: mixed (rows prove both orders), or None (no date cells).
    date_order: DateFinding | None = None
    #: The rows that settle the order (DMY and/or MDY), when some do.
    date_proof: dict[str, Example] = _field(default_factory=dict)
    #: The reading to import with. When `needs_date_choice`, dates stay ISO until the user
    #: picks DMY or MDY.
    options: ImportOptions = _field(default_factory=ImportOptions)
    needs_date_choice: bool = False
    rows_examined: int = 0
    whole_file: bool = False
    #: A header the import would refuse (unknown column, a file of the other kind).
    problem: str | None = None
    looks_like: str | None = None
    rejected_export: bool = False

    def lines(self) -> list[str]:
        """The report in words, one finding a line."""
        if self.problem:
            return [f"cannot import this file as {self.kind}: {self.problem}"]
        scope = "the whole file" if self.whole_file else "a sample"
        out = [f"{self.kind} file: {self.rows_examined} rows read ({scope})"]
        if self.rejected_export:
            out.append("an export of rejected rows: its line, column and reason columns are "
                       "ignored")
        for col in self.columns:
            out.append(f"{col.column}: {col.proposal}")
            if col.unreadable_count:
                first = col.unreadable[0]
                out.append(f"  {col.unreadable_count} cell(s) in no form the import reads, "
                           f"e.g. line {first.line}: {first.cell!r}; those rows will be rejected")
        if self.needs_date_choice:
            out.append("choose the date order: --dates DMY or --dates MDY")
        out.append(f"proposed: {self.options.describe()}")
        return out


def detect_format(
    path: Path,
    kind: str,
    *,
    rows: int = SAMPLE_ROWS,
    whole_file: bool = False,
    mapping: Mapping[str, str] | None = None,
) -> FormatReport:
    """Read the first `rows` data rows of `path` (all of them with `whole_file`, streamed)
    and report the formats of its amount and date columns. A file that cannot be opened or
    has no header raises ImportFileError; a header the import would refuse is reported."""
    fields = FIELDS[kind]
    report = FormatReport(kind=kind, whole_file=whole_file)
    try:
        required = fields if kind == "orders" else ("email",)
        with CsvSource(path, fields, required, mapping, kind) as source:
            columns = source.columns
            report.rejected_export = source.rejected_export
    except WrongKindError as exc:
        report.problem, report.looks_like = str(exc), exc.looks_like
        return report
    except ImportFileError as exc:
        if "cannot open" in str(exc) or "is empty" in str(exc):
            raise
        report.problem = str(exc)
        return report
    wanted = {i: c for i, c in enumerate(columns) if c and c in AMOUNT_FIELDS + DATE_FIELDS}
    scans = {i: _Scan() for i in wanted}
    with path.open("rb") as raw, io.TextIOWrapper(
        raw, encoding="utf-8-sig", errors="surrogateescape", newline=""
    ) as text:
        reader = csv.reader(text)
        header = next(reader)
        while whole_file or report.rows_examined < rows:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error:
                continue
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            report.rows_examined += 1
            if len(cells) != len(header):
                continue  # the import rejects the row whatever its format
            for i, scan in scans.items():
                cell = cells[i].strip()
                if report.rejected_export and cell.startswith("'"):
                    cell = cell[1:]
                if cell:
                    scan.add(start, cell, wanted[i])
    _conclude(report, header, wanted, scans)
    return report


class _Scan:
    """Tallies of one column's cells."""

    def __init__(self) -> None:
        self.signs: dict[str, Example] = {}
        self.groupings: dict[str, Example] = {}
        self.iso = 0
        self.slashed: dict[str, list[Example]] = {"DMY": [], "MDY": [], "either": []}
        self.unreadable: list[Example] = []
        self.unreadable_count = 0

    def add(self, line: int, cell: str, field_name: str) -> None:
        if field_name in AMOUNT_FIELDS:
            self._amount(line, cell)
        else:
            self._date(line, cell)

    def _amount(self, line: int, cell: str) -> None:
        form = amount_form(cell)
        try:
            minor = parse_lenient_amount(cell) if form else None
        except ValueError:
            minor, form = None, None  # well formed but out of range: rejected either way
        if form is None or minor is None:
            self._bad(line, cell)
            return
        sign, grouping = form
        example = Example(line, cell, f"{minor // 100}.{minor % 100:02d}")
        if sign:
            self.signs.setdefault(sign, example)
        if grouping != "plain":
            self.groupings.setdefault(grouping, example)

    def _date(self, line: int, cell: str) -> None:
        if slashed_parts(cell) is None:
            try:
                v.parse_timestamp(cell)
                self.iso += 1
            except ValueError:
                self._bad(line, cell)
            return
        found = readings(cell)
        if not found:
            self._bad(line, cell)
            return
        key = "either" if len(found) == 2 else next(iter(found))
        bucket = self.slashed[key]
        if len(bucket) < _SHOWN:
            bucket.append(Example(line, cell, " or ".join(_day(d) for d in found.values())))

    def _bad(self, line: int, cell: str) -> None:
        self.unreadable_count += 1
        if len(self.unreadable) < _SHOWN:
            self.unreadable.append(Example(line, cell))


def _day(moment: datetime) -> str:
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _conclude(
    report: FormatReport, header: list[str], wanted: dict[int, str],
    scans: dict[int, _Scan],
) -> None:
    amounts_lenient = False
    proofs: dict[str, Example] = {}
    ambiguous: Example | None = None
    iso = 0
    for i, scan in scans.items():
        name, field_name = header[i].strip(), wanted[i]
        if field_name in AMOUNT_FIELDS:
            col = _amount_column(name, field_name, scan)
            amounts_lenient = amounts_lenient or bool(scan.signs or scan.groupings)
        else:
            col = _date_column(name, field_name, scan)
            for order in ("DMY", "MDY"):
                if scan.slashed[order] and order not in proofs:
                    proofs[order] = scan.slashed[order][0]
            if scan.slashed["either"] and ambiguous is None:
                ambiguous = scan.slashed["either"][0]
            iso += scan.iso
        col.unreadable, col.unreadable_count = scan.unreadable, scan.unreadable_count
        report.columns.append(col)
    if len(proofs) == 2:
        report.date_order = "mixed"
    elif proofs:
        report.date_order = "DMY" if "DMY" in proofs else "MDY"
    elif ambiguous is not None:
        report.date_order = "ambiguous"
    elif iso:
        report.date_order = "ISO"
    report.date_proof = proofs
    report.needs_date_choice = report.date_order in ("ambiguous", "mixed")
    dates: DateOrder = "DMY" if report.date_order == "DMY" else (
        "MDY" if report.date_order == "MDY" else "ISO")
    report.options = ImportOptions(amounts="lenient" if amounts_lenient else "strict",
                                   dates=dates)


def _amount_column(name: str, field_name: str, scan: _Scan) -> ColumnFormat:
    parts = []
    groupings = scan.groupings
    if "indian" in groupings and "western" in groupings:
        parts.append("Western and Indian grouping")
    elif "indian" in groupings:
        parts.append("Indian grouping")
    elif "western" in groupings:
        parts.append("thousands separators (Western grouping)")
    elif groupings:  # 1,000 to 99,999: the same in both systems
        parts.append("thousands separators")
    if scan.signs:
        parts.append(" and ".join(sorted(scan.signs)) + " signs")
    if not parts:
        return ColumnFormat(name, field_name, "plain amounts",
                            "amounts: plain numbers — read as they are")
    detected = " and ".join(parts)
    example = next(groupings[g] for g in ("indian", "western", "thousands") if g in groupings) \
        if groupings else next(iter(scan.signs.values()))
    examples = list({e.line: e for e in [*groupings.values(), *scan.signs.values()]}.values())
    return ColumnFormat(
        name, field_name, detected,
        f"amounts: {detected} — {example.cell} reads as {example.reads_as} (--amounts lenient)",
        examples=examples,
    )


def _date_column(name: str, field_name: str, scan: _Scan) -> ColumnFormat:
    dmy, mdy, either = scan.slashed["DMY"], scan.slashed["MDY"], scan.slashed["either"]
    examples = [*dmy, *mdy, *either]
    if dmy and mdy:
        a, b = dmy[0], mdy[0]
        return ColumnFormat(
            name, field_name, "dates in both orders",
            f"dates: mixed — line {a.line} has {a.cell} (only day first: {a.reads_as}) and "
            f"line {b.line} has {b.cell} (only month first: {b.reads_as}); choose one order: "
            "rows in the other will be rejected",
            examples=examples, date_order="mixed")
    if dmy or mdy:
        order: DateFinding = "DMY" if dmy else "MDY"
        proof = (dmy or mdy)[0]
        first = "day" if dmy else "month"
        return ColumnFormat(
            name, field_name, f"{first}-first dates ({order})",
            f"dates: {first} first ({order}) — line {proof.line} has {proof.cell}, which can "
            f"only be {proof.reads_as} (--dates {order})",
            examples=examples, date_order=order)
    if either:
        e = either[0]
        return ColumnFormat(
            name, field_name, "dates that read either way",
            f"dates: ambiguous — every date reads day first or month first (line {e.line}: "
            f"{e.cell} is {e.reads_as}); choose --dates DMY or --dates MDY",
            examples=examples, date_order="ambiguous")
    if scan.iso:
        return ColumnFormat(name, field_name, "ISO 8601 dates",
                            "dates: ISO 8601 — read as they are", date_order="ISO")
    return ColumnFormat(name, field_name, "no dates", "dates: none given")

