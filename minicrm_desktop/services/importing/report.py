"""What an import reports: counts, each rejected row, progress while it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from minicrm_desktop.services.core.csv_export import csv_writer


@dataclass(frozen=True)
class RejectedRow:
    line: int
    column: str | None
    reason: str

    def describe(self) -> str:
        where = f"line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class ImportProgress:
    rows_read: int
    bytes_read: int
    bytes_total: int

    @property
    def fraction(self) -> float:
        return min(1.0, self.bytes_read / self.bytes_total) if self.bytes_total else 1.0


@dataclass
class ImportReport:
    kind: str
    imported: int = 0
    updated: int = 0
    #: Rows naming an existing record that already held exactly their values.
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    cancelled: bool = False
    #: The file imported: the rejected-rows export reads its rows' cells from it again.
    source: Path | None = None

    def merge(self, other: ImportReport) -> None:
        self.imported += other.imported
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected.extend(other.rejected)

    @property
    def rows_taken(self) -> int:
        return self.imported + self.updated + self.unchanged

    @property
    def rows_changed(self) -> int:
        """Rows that added or changed a record."""
        return self.imported + self.updated

    def summary(self) -> str:
        text = (
            f"{self.kind}: {self.imported} imported, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.rejected)} rejected"
        )
        if self.cancelled:
            text += " (cancelled: rows after the last batch were not read)"
        return text

    def write_rejections_csv(self, path: Path) -> None:
        """The rejected rows as CSV: with the source file known, its own columns with the
        cells as they were, then line, column, reason (see rejected.py), ready to fix and
        import again; else line, column and reason alone."""
        if self.source is not None:
            from .rejected import export_rejected_rows  # it builds on this module

            export_rejected_rows(self.source, self.rejected, path)
            return
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv_writer(fh)
            writer.writerow(["line", "column", "reason"])
            for row in self.rejected:
                writer.writerow([row.line, row.column or "", row.reason])


ProgressCallback = Callable[[ImportProgress], None]
CancelCheck = Callable[[], bool]
