"""A campaign's per-recipient log as a table, loaded page by page (keyset on the delivery
id) as the view scrolls, optionally filtered by status."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from sqlalchemy import Engine

from minicrm_desktop.models.campaign import DeliveryStatus
from minicrm_desktop.services.campaigns.stats import LogRow, log_page
from minicrm_desktop.services.tasks import TaskHandle, TaskRunner
from minicrm_desktop.views.formatting import format_datetime

ModelIndex = QModelIndex | QPersistentModelIndex
LOG_PAGE_SIZE = 200
LOG_COLUMNS = ("Email", "Address", "Variant", "Status", "Reason", "Attempts", "Updated")


class DeliveryLogModel(QAbstractTableModel):
    loaded = Signal()
    load_failed = Signal(str)

    def __init__(self, engine: Engine, runner: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._runner = runner
        self.campaign_id: int | None = None
        self.status: DeliveryStatus | None = None
        self._rows: list[LogRow] = []
        self._more = False
        self._handle: TaskHandle[Any] | None = None
        self._generation = 0
        self.page_fetches = 0

    @property
    def loading(self) -> bool:
        return self._handle is not None

    def show(self, campaign_id: int, status: DeliveryStatus | None = None) -> None:
        """Show the log of a campaign (from its first row), optionally one status only."""
        self.campaign_id, self.status = campaign_id, status
        self.beginResetModel()
        self._rows = []
        self._more = False
        self.endResetModel()
        self._fetch(0)

    def set_status(self, status: DeliveryStatus | None) -> None:
        if self.campaign_id is not None:
            self.show(self.campaign_id, status)

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more and self._handle is None

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent) and self._rows:
            self._fetch(self._rows[-1].id)

    def _fetch(self, after_id: int) -> None:
        if self.campaign_id is None:
            return
        if self._handle is not None:
            self._handle.cancel()
        self._generation += 1
        generation, engine = self._generation, self._engine
        campaign_id, status = self.campaign_id, self.status
        self.page_fetches += 1
        self._handle = self._runner.run(
            lambda _ctx: log_page(engine, campaign_id, after_id=after_id,
                                  limit=LOG_PAGE_SIZE, status=status),
            title="Loading the delivery log", quiet=True,
            on_success=lambda rows: self._arrived(generation, rows),
            on_error=lambda exc: self._failed(generation, exc),
        )

    def _arrived(self, generation: int, rows: list[LogRow]) -> None:
        if generation != self._generation:
            return
        self._handle = None
        self._more = len(rows) == LOG_PAGE_SIZE
        if rows:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        self.loaded.emit()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._handle = None
            self.load_failed.emit(str(exc))

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
            self._generation += 1

    def row(self, row: int) -> LogRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # --- QAbstractTableModel --------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(LOG_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(LOG_COLUMNS) \
                and role == Qt.ItemDataRole.DisplayRole:
            return LOG_COLUMNS[section]
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | \
            Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        row = self.row(index.row())
        if row is None or not 0 <= index.column() < len(LOG_COLUMNS):
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        values = (row.email.lower(), row.address or "", row.variant, row.status,
                  row.reason or "", str(row.attempts), format_datetime(row.updated_at))
        return values[index.column()]
