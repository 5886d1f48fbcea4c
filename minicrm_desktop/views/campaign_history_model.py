"""The Campaigns page's table: newest first, loaded page by page (keyset on the id) as the
view scrolls, with live counters from the delivery engine."""

from __future__ import annotations

import dataclasses
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

from minicrm_desktop.services.campaigns.events import CampaignCounts
from minicrm_desktop.services.campaigns.history import CampaignRow, list_campaigns
from minicrm_desktop.services.tasks import TaskHandle, TaskRunner

ModelIndex = QModelIndex | QPersistentModelIndex
PAGE_SIZE = 100
COLUMNS = ("Name", "Status", "Audience", "Sent", "Failed", "Skipped", "Success", "Progress")
NUMERIC = {2, 3, 4, 5, 6}
PROGRESS_COLUMN = 7
CampaignIdRole = Qt.ItemDataRole.UserRole + 1
ProgressRole = Qt.ItemDataRole.UserRole + 2
StatusRole = Qt.ItemDataRole.UserRole + 3
ACTIVE = ("running", "paused")


class CampaignHistoryModel(QAbstractTableModel):
    #: A page (or a refresh) arrived.
    loaded = Signal()
    load_failed = Signal(str)

    def __init__(self, engine: Engine, runner: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._runner = runner
        self._rows: list[CampaignRow] = []
        self._index: dict[int, int] = {}
        self._more = False
        self._handle: TaskHandle[Any] | None = None
        self._generation = 0
        self.page_fetches = 0

    # --- loading --------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self._handle is not None

    def refresh(self) -> None:
        """Read again as many rows as are shown (at least a page): new campaigns appear on
        top, and statuses and counters are brought up to date."""
        limit = max(PAGE_SIZE, len(self._rows))
        self._fetch(None, limit, replace=True)

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more and self._handle is None

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent) and self._rows:
            self._fetch(self._rows[-1].id, PAGE_SIZE, replace=False)

    def _fetch(self, before_id: int | None, limit: int, *, replace: bool) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._generation += 1
        generation, engine = self._generation, self._engine
        self.page_fetches += 1
        self._handle = self._runner.run(
            lambda _ctx: list_campaigns(engine, before_id=before_id, limit=limit),
            title="Loading campaigns", quiet=True,
            on_success=lambda rows: self._arrived(generation, rows, limit, replace),
            on_error=lambda exc: self._failed(generation, exc),
        )

    def _arrived(self, generation: int, rows: list[CampaignRow], limit: int,
                 replace: bool) -> None:
        if generation != self._generation:
            return
        self._handle = None
        self._more = len(rows) == limit
        if replace:
            self.beginResetModel()
            self._rows = list(rows)
            self.endResetModel()
        elif rows:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        self._index = {row.id: i for i, row in enumerate(self._rows)}
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

    # --- live updates ---------------------------------------------------------------------

    def apply_counts(self, counts: CampaignCounts) -> None:
        row = self._index.get(counts.campaign_id)
        if row is None:
            return
        self._rows[row] = dataclasses.replace(
            self._rows[row], status=counts.status, audience=counts.audience,
            sent=counts.sent, failed=counts.failed, skipped=counts.skipped)
        self.dataChanged.emit(self.index(row, 1), self.index(row, len(COLUMNS) - 1))

    def campaign(self, row: int) -> CampaignRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, campaign_id: int) -> int | None:
        return self._index.get(campaign_id)

    # --- QAbstractTableModel --------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return _alignment(section)
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | \
            Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        row = self.campaign(index.row())
        column = index.column()
        if row is None or not 0 <= column < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(column)
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return f"{row.name} ({row.channel}), created {row.created_at:%Y-%m-%d %H:%M} UTC"
        if role == CampaignIdRole:
            return row.id
        if role == ProgressRole:
            return row.progress
        if role == StatusRole:
            return row.status
        return None


def _alignment(column: int) -> int:
    horizontal = Qt.AlignmentFlag.AlignRight if column in NUMERIC else \
        Qt.AlignmentFlag.AlignHCenter if column == PROGRESS_COLUMN else Qt.AlignmentFlag.AlignLeft
    return int(horizontal | Qt.AlignmentFlag.AlignVCenter)


def _display(row: CampaignRow, column: int) -> str:
    if column == 0:
        return row.name
    if column == 1:
        return row.status.capitalize()
    if column in (2, 3, 4, 5):
        value = (row.audience, row.sent, row.failed, row.skipped)[column - 2]
        return "—" if row.status in ("draft", "scheduled") else f"{value:,}"
    if column == 6:
        rate = row.success_rate
        return "—" if rate is None else f"{rate:.1%}"
    if row.status in ("draft", "scheduled"):
        return ""
    return f"{row.progress:.0%}"
