"""Streaming a CSV file row by row with its line numbers and a checked header."""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from minicrm_desktop.services.core.csv_export import FORMULA_STARTS

from ...errors import ImportFileError
from .kinds import REJECTED_COLUMNS, check_kind, is_rejected_export
from .report import RejectedRow
from .values import CONTROL as _CONTROL
from .values import clean_cells

# Long free-text cells are legitimate; a runaway quote is caught by the row checks instead.
csv.field_size_limit(10 * 1024 * 1024)


# Made for every row of the file: a frozen dataclass's __init__ (object.__setattr__ per
# field) cost about three times a slotted one's, a second per million rows (issue 18).
@dataclass(slots=True)
class CsvRow:
    line: int
    values: dict[str | None, str]  # field name (None: an ignored column) -> cell text


class CsvSource:
    """Opens a CSV file and maps its header to the import's fields.

    `mapping` (CSV header -> field name) lets the GUI override the automatic match of
    header names, which is case-insensitive; a header mapped to "" is ignored.
    `kind` ("customers"/"orders") lets a header of the other kind be named as such.
    A file the rejected-rows export wrote (its own columns, then line, column, reason) is
    read back: those three columns are ignored and the export's escaping undone.
    """

    def __init__(
        self,
        path: Path,
        fields: Sequence[str],
        required: Sequence[str],
        mapping: Mapping[str, str] | None = None,
        kind: str | None = None,
    ) -> None:
        self.path = path
        self.kind = kind
        self.rejected_export = False
        try:
            self.bytes_total = os.path.getsize(path)
            self._raw: BinaryIO = path.open("rb")
        except OSError as exc:
            raise ImportFileError(f"cannot open {path}: {exc.strerror or exc}") from None
        # surrogateescape: a bad byte spoils its row, not the whole file.
        self._text = io.TextIOWrapper(
            self._raw, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        self._reader = csv.reader(self._text, strict=True)
        try:
            header = next(self._reader)
        except StopIteration:
            self.close()
            raise ImportFileError(f"{path.name} is empty: expected a header row") from None
        except csv.Error as exc:
            self.close()
            raise ImportFileError(f"{path.name}: the header row is not valid CSV ({exc})") from None
        try:
            self.columns = self._map_header(header, fields, required, mapping)
        except ImportFileError:
            self.close()
            raise

    def _map_header(
        self,
        header: list[str],
        fields: Sequence[str],
        required: Sequence[str],
        mapping: Mapping[str, str] | None,
    ) -> list[str | None]:
        if _BAD_BYTE.search("".join(header)):
            raise ImportFileError(f"{self.path.name} is not UTF-8 text")
        known = {f.lower(): f for f in fields}
        lowered_mapping = {k.strip().lower(): v for k, v in (mapping or {}).items()}
        columns: list[str | None] = []
        unknown: list[str] = []
        own = header
        if is_rejected_export(header, fields):
            self.rejected_export = True
            own = header[: -len(REJECTED_COLUMNS)]
        for raw_name in own:
            name = raw_name.strip()
            if name.lower() in lowered_mapping:
                target = lowered_mapping[name.lower()]
                if target and target not in fields:
                    raise ImportFileError(f"column {name!r} is mapped to unknown field {target!r}")
                columns.append(target or None)
            elif name.lower() in known:
                columns.append(known[name.lower()])
            else:
                unknown.append(name or "(blank)")
                columns.append(None)
        if self.rejected_export:
            columns.extend([None] * len(REJECTED_COLUMNS))
        if unknown and self.kind:
            check_kind(header, self.kind)
        if unknown:
            raise ImportFileError(
                f"unknown column{'s' if len(unknown) > 1 else ''} "
                + ", ".join(repr(u) for u in unknown)
                + f"; expected columns are: {', '.join(fields)}"
            )
        mapped = [c for c in columns if c]
        duplicates = sorted({c for c in mapped if mapped.count(c) > 1})
        if duplicates:
            raise ImportFileError(f"column {duplicates[0]!r} appears more than once")
        missing = [f for f in required if f not in mapped]
        if missing and self.kind:
            check_kind(header, self.kind)
        if missing:
            raise ImportFileError(f"required column {missing[0]!r} is missing")
        return columns

    @property
    def present(self) -> set[str]:
        return {c for c in self.columns if c}

    @property
    def bytes_read(self) -> int:
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return self.bytes_total

    def rows(self) -> Iterator[CsvRow | RejectedRow]:
        """Each data row with its cells in Unicode NFC, or a rejection for a row that is not
        usable CSV or holds a control character."""
        width = len(self.columns)
        while True:
            start = self._reader.line_num + 1
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield RejectedRow(start, None, f"not valid CSV: {exc}")
                continue
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # blank line
            if self.rejected_export:
                cells = [unescape(cell) for cell in cells]
            if len(cells) != width:
                yield RejectedRow(start, None, f"expected {width} fields, found {len(cells)}")
                continue
            joined = "".join(cells)
            # Most rows are ASCII without control characters: nothing more to check.
            if not joined.isascii() or _CONTROL.search(joined):
                if _BAD_BYTE.search(joined):
                    bad = next(i for i, cell in enumerate(cells) if _BAD_BYTE.search(cell))
                    yield RejectedRow(start, self.columns[bad], "is not valid UTF-8 text")
                    continue
                cells, bad_index, bad_char = clean_cells(cells)
                if bad_index is not None:
                    yield RejectedRow(start, self.columns[bad_index], f"contains a control "
                                      f"character ({bad_char}); only tab is allowed")
                    continue
            yield CsvRow(start, dict(zip(self.columns, cells, strict=True)))

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def unescape(cell: str) -> str:
    """A cell as it was before the rejected-rows export escaped it (`escape`)."""
    return cell[1:] if cell.startswith("'") else cell


def escape(cell: str) -> str:
    """The rejected-rows export's escaping: a leading apostrophe before a cell that starts
    with one or with what a spreadsheet would run as a formula, undone on re-import."""
    return "'" + cell if cell.startswith(("'", *FORMULA_STARTS)) else cell


# Undecodable bytes, escaped by surrogateescape, land in U+DC80..U+DCFF.
_BAD_BYTE = re.compile("[\udc80-\udcff]")
