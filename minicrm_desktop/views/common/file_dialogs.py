"""Modal file pickers behind replaceable classmethods, so tests answer them directly."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

CSV_FILTER = "CSV files (*.csv);;All files (*)"


class OpenCsvDialog:
    @classmethod
    def ask(cls, parent: QWidget | None, title: str = "Choose a CSV file") -> Path | None:
        name, _ = QFileDialog.getOpenFileName(parent, title, str(Path.home()), CSV_FILTER)
        return Path(name) if name else None


class SaveCsvDialog:
    @classmethod
    def ask(cls, parent: QWidget | None, suggested: str,
            title: str = "Save as CSV") -> Path | None:
        name, _ = QFileDialog.getSaveFileName(
            parent, title, str(Path.home() / suggested), CSV_FILTER
        )
        if not name:
            return None
        path = Path(name)
        return path if path.suffix else path.with_suffix(".csv")
