"""Exporting rejected rows so the file can be fixed and imported again.

The export holds each rejected row as the file had it, cell for cell under the file's own
header, then `line`, `column`, `reason`. Importing the export (once fixed) works as is: the
importer recognises those three trailing columns and ignores them (reader.CsvSource).

The rows are read again from the source file by line number rather than kept in memory
during the import: a million-row file with many bad rows stays cheap to import.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from minicrm_desktop.services.core.csv_export import csv_writer

from ...errors import ImportFileError
from .kinds import REJECTED_COLUMNS, is_rejected_export
from .reader import escape, unescape
from .report import RejectedRow


def export_rejected_rows(source: Path, rejected: Iterable[RejectedRow], out: Path) -> int:
    """Write `rejected` (from importing `source`) to `out`; return how many rows it wrote.

    Cells are written as the file had them (a row of the wrong width is padded, or its
    extra cells joined into its last column); a leading apostrophe is added to a cell a
    spreadsheet would run as a formula (or that starts with an apostrophe), and taken off
    again on re-import. A row whose line is no longer in the file is written with empty
    cells, its reason kept.
    """
    by_line: dict[int, list[RejectedRow]] = defaultdict(list)
    for row in rejected:
        by_line[row.line].append(row)
    try:
        raw = source.open("rb")
    except OSError as exc:
        raise ImportFileError(f"cannot open {source}: {exc.strerror or exc}") from None
    written = 0
    # surrogateescape both ways: bytes that were not UTF-8 go back out as they came in.
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape",
                               newline="") as text, \
            out.open("w", newline="", encoding="utf-8", errors="surrogateescape") as fh:
        reader = csv.reader(text, strict=True)
        try:
            header = next(reader)
        except (StopIteration, csv.Error):
            header = []
        was_export = is_rejected_export(header, ())
        if was_export:
            header = header[: -len(REJECTED_COLUMNS)]
        width = max(1, len(header))
        writer = csv_writer(fh)
        writer.writerow([escape(h) for h in header] + list(REJECTED_COLUMNS))
        while by_line:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error:
                cells = []
            if start not in by_line:
                continue
            if was_export:
                cells = [unescape(c) for c in cells[: -len(REJECTED_COLUMNS)]]
            own = _fit(cells, width)
            for row in by_line.pop(start):
                writer.writerow([escape(c) for c in own] + [row.line, row.column or "",
                                                             row.reason])
                written += 1
        for line in sorted(by_line):
            for row in by_line[line]:
                writer.writerow([""] * width + [row.line, row.column or "", row.reason])
                written += 1
    return written


def _fit(cells: list[str], width: int) -> list[str]:
    if len(cells) <= width:
        return cells + [""] * (width - len(cells))
    return cells[: width - 1] + [",".join(cells[width - 1:])]
