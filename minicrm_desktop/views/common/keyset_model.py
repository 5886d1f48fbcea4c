"""A table model that loads its rows page by page in the background, keyset-paged.

The view asks for more with `fetchMore` as it scrolls; each page is one query run by the
TaskRunner, and a newer request makes an older one's answer stale (a generation count).
Subclasses say how to read the page after a given row (`_fetch_after`) and what a row shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal
from sqlalchemy import Engine

from minicrm_desktop.services.core.tasks import TaskHandle, TaskRunner
from minicrm_desktop.views.common.titled_model import ModelIndex, TitledTableModel

__all__ = ["KeysetTableModel", "ModelIndex"]


class KeysetTableModel(TitledTableModel):
    #: A page (or a refresh) arrived.
    loaded = Signal()
    load_failed = Signal(str)

    def __init__(self, engine: Engine, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._runner = runner
        self._rows: list[Any] = []
        self._more = False
        self._handle: TaskHandle[Any] | None = None
        self._generation = 0
        self.page_fetches = 0  # pages read (tests)

    @property
    def loading(self) -> bool:
        return self._handle is not None

    def _fetch_after(self, last: Any) -> None:
        """Read the page after `last` (the last row shown) and `_append` it."""
        raise NotImplementedError

    def _start(
        self, work: Callable[[], Sequence[Any]], title: str, arrived: Callable[[list[Any]], None]
    ) -> None:
        """Run `work` in the background; `arrived` gets its rows unless a newer request
        or `cancel` came first."""
        if self._handle is not None:
            self._handle.cancel()
        if self._runner.closed:  # a late change (a campaign stopping at quit): no one to show
            return
        self._generation += 1
        generation = self._generation
        self.page_fetches += 1
        self._handle = self._runner.run(
            lambda _ctx: list(work()),
            title=title,
            quiet=True,
            on_success=lambda rows: self._deliver(generation, rows, arrived),
            on_error=lambda exc: self._failed(generation, exc),
        )

    def _deliver(
        self, generation: int, rows: list[Any], arrived: Callable[[list[Any]], None]
    ) -> None:
        if generation != self._generation:
            return
        self._handle = None
        arrived(rows)
        self.loaded.emit()

    def _append(self, rows: list[Any], page_size: int) -> None:
        self._more = len(rows) == page_size
        if rows:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._handle = None
            self.load_failed.emit(str(exc))

    def _clear(self) -> None:
        """Show no rows until the first page of a new query arrives."""
        self._replace([], more=False)

    def _replace(self, rows: list[Any], *, more: bool) -> None:
        """Show `rows` instead of what was shown (a refresh)."""
        self._more = more
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, row: int) -> Any:
        """The row object shown at `row`, or None."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
            self._generation += 1

    # --- QAbstractTableModel --------------------------------------------------------------

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more and self._handle is None

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent) and self._rows:
            self._fetch_after(self._rows[-1])

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )
