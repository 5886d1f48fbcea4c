"""The Campaigns page's table: newest first, loaded page by page (keyset on the id) as the
view scrolls, with live counters from the delivery engine."""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QObject, Qt
from sqlalchemy import Engine

from minicrm_desktop.services.campaigns.events import CampaignCounts
from minicrm_desktop.services.campaigns.history import CampaignRow, list_campaigns
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.common.formatting import format_datetime
from minicrm_desktop.views.common.keyset_model import KeysetTableModel, ModelIndex

PAGE_SIZE = 100
COLUMNS = ("Name", "Status", "When", "Audience", "Sent", "Failed", "Skipped", "Cancelled",
           "Success", "Progress")
NUMERIC = {3, 4, 5, 6, 7, 8}
PROGRESS_COLUMN = 9
CampaignIdRole = Qt.ItemDataRole.UserRole + 1
ProgressRole = Qt.ItemDataRole.UserRole + 2
StatusRole = Qt.ItemDataRole.UserRole + 3
ACTIVE = ("running", "paused")


class CampaignHistoryModel(KeysetTableModel):
    columns = COLUMNS

    def __init__(self, engine: Engine, runner: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(engine, runner, parent)
        self._index: dict[int, int] = {}

    # --- loading --------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read again as many rows as are shown (at least a page): new campaigns appear on
        top, and statuses and counters are brought up to date."""
        limit = max(PAGE_SIZE, len(self._rows))
        engine = self._engine

        def replace(rows: list[CampaignRow]) -> None:
            self._replace(rows, more=len(rows) == limit)
            self._reindex()

        self._start(lambda: list_campaigns(engine, limit=limit), "Loading campaigns", replace)

    def _fetch_after(self, last: CampaignRow) -> None:
        engine = self._engine

        def append(rows: list[CampaignRow]) -> None:
            self._append(rows, PAGE_SIZE)
            self._reindex()

        self._start(lambda: list_campaigns(engine, before_id=last.id, limit=PAGE_SIZE),
                    "Loading campaigns", append)

    def _reindex(self) -> None:
        self._index = {row.id: i for i, row in enumerate(self._rows)}

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

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return _alignment(section)
        return None

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


def when(row: CampaignRow) -> str:
    """A scheduled campaign's run time; else when it started, or was created."""
    if row.status == "scheduled" and row.scheduled_at is not None:
        return f"runs {format_datetime(row.scheduled_at)}"
    if row.started_at is not None:
        return f"started {format_datetime(row.started_at)}"
    return f"created {format_datetime(row.created_at)}"


def _not_started(row: CampaignRow) -> bool:
    """No figures yet (a draft, a schedule, or one cancelled before it ran)."""
    return row.status in ("draft", "scheduled") or (row.status == "cancelled"
                                                     and row.started_at is None)


def _alignment(column: int) -> int:
    horizontal = Qt.AlignmentFlag.AlignRight if column in NUMERIC else \
        Qt.AlignmentFlag.AlignHCenter if column == PROGRESS_COLUMN else Qt.AlignmentFlag.AlignLeft
    return int(horizontal | Qt.AlignmentFlag.AlignVCenter)


def _display(row: CampaignRow, column: int) -> str:
    if column == 0:
        return row.name
    if column == 1:
        return row.status.capitalize()
    if column == 2:
        return when(row)
    if column in (3, 4, 5, 6, 7):
        value = (row.audience, row.sent, row.failed, row.skipped, row.cancelled)[column - 3]
        return "—" if _not_started(row) else f"{value:,}"
    if column == 8:
        rate = row.success_rate
        return "—" if rate is None else f"{rate:.1%}"
    if _not_started(row):
        return ""
    return f"{row.progress:.0%}"
