"""The loop every import shares: read rows, validate, write in batches, report progress."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from .reader import CsvRow, CsvSource
from .report import CancelCheck, ImportProgress, ImportReport, ProgressCallback, RejectedRow

# Large enough to amortise each transaction; small enough to keep memory flat.
DEFAULT_BATCH_SIZE = 5000

ParsedRow = tuple[int, dict[str, Any]]  # (line, parsed values)
Validator = Callable[[CsvRow, set[str]], dict[str, Any]]
BatchWriter = Callable[[Connection, list[ParsedRow], set[str], ImportReport], None]


class RowError(ValueError):
    """A cell that fails validation: names its column."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def run_import(
    engine: Engine,
    path: Path,
    *,
    kind: str,
    fields: Sequence[str],
    required: Sequence[str],
    validate: Validator,
    write_batch: BatchWriter,
    mapping: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportReport:
    """Stream `path`, validating each row; write each batch of good rows in one transaction.

    A file-level problem (unknown column, unreadable file) raises ImportFileError before
    anything is written. A bad row is reported and skipped; the good rows still go in.
    """
    report = ImportReport(kind=kind)
    with CsvSource(path, fields, required, mapping) as source:
        present = source.present
        batch: list[ParsedRow] = []
        rows_read = 0

        def flush() -> None:
            if batch:
                with engine.begin() as conn:
                    write_batch(conn, batch, present, report)
                batch.clear()
            if progress is not None:
                progress(ImportProgress(rows_read, source.bytes_read, source.bytes_total))

        for item in source.rows():
            rows_read += 1
            if isinstance(item, RejectedRow):
                report.rejected.append(item)
                continue
            try:
                batch.append((item.line, validate(item, present)))
            except RowError as exc:
                report.rejected.append(RejectedRow(item.line, exc.column, exc.reason))
            if len(batch) >= batch_size:
                flush()
                if should_cancel is not None and should_cancel():
                    report.cancelled = True
                    break
        else:
            flush()
    report.rejected.sort(key=lambda r: r.line)
    return report


def last_wins(batch: list[ParsedRow], key: str) -> tuple[list[ParsedRow], int]:
    """Keep the last row for each key (a later row updates an earlier one), and say how
    many earlier rows were folded into later ones."""
    by_key: dict[Any, ParsedRow] = {}
    for item in batch:
        by_key[item[1][key]] = item
    return list(by_key.values()), len(batch) - len(by_key)
