"""The one CSV writer for every export (customers, campaign log, vendor ledger, audit log,
rejected import rows): cells a spreadsheet would run as a formula are neutralised.

Excel, LibreOffice and Google Sheets treat a cell starting with = + - @ (and, after a tab
or carriage return, the same) as a formula: `=HYPERLINK(...)` in a customer's name would
run on the machine of whoever opens the export. Such text cells get a leading apostrophe,
which spreadsheets read as "this is text" (OWASP's CSV injection advice). Numbers are
written as they are: a negative number is data, not a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

#: What a text cell may not start with, as written.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """`value` as a spreadsheet will show it, never run it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCsvWriter:
    """csv.writer's writerow/writerows, each text cell passed through `neutralise`."""

    def __init__(self, out: IO[str], **fmtparams: Any) -> None:
        self._writer = csv.writer(out, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: IO[str], **fmtparams: Any) -> SafeCsvWriter:
    """The writer every export uses (`fmtparams` as for csv.writer)."""
    return SafeCsvWriter(out, **fmtparams)
