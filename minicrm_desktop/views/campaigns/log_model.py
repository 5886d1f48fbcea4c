"""A campaign's per-recipient log as a table, loaded page by page (keyset on the delivery
id) as the view scrolls, optionally filtered by status."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt
from sqlalchemy import Engine

from minicrm_desktop.models.campaign import DeliveryStatus
from minicrm_desktop.services.campaigns.stats import LogRow, log_page
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.common.formatting import format_datetime
from minicrm_desktop.views.common.keyset_model import KeysetTableModel, ModelIndex

LOG_PAGE_SIZE = 200
LOG_COLUMNS = ("Email", "Address", "Variant", "Status", "Reason", "Attempts", "Updated")


class DeliveryLogModel(KeysetTableModel):
    columns = LOG_COLUMNS

    def __init__(self, engine: Engine, runner: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(engine, runner, parent)
        self.campaign_id: int | None = None
        self.status: DeliveryStatus | None = None

    def show(self, campaign_id: int, status: DeliveryStatus | None = None) -> None:
        """Show the log of a campaign (from its first row), optionally one status only."""
        self.campaign_id, self.status = campaign_id, status
        self._clear()
        self._fetch(0)

    def set_status(self, status: DeliveryStatus | None) -> None:
        if self.campaign_id is not None:
            self.show(self.campaign_id, status)

    def _fetch_after(self, last: LogRow) -> None:
        self._fetch(last.id)

    def _fetch(self, after_id: int) -> None:
        if self.campaign_id is None:
            return
        engine, campaign_id, status = self._engine, self.campaign_id, self.status
        self._start(
            lambda: log_page(engine, campaign_id, after_id=after_id, limit=LOG_PAGE_SIZE,
                             status=status),
            "Loading the delivery log",
            lambda rows: self._append(rows, LOG_PAGE_SIZE),
        )

    # --- QAbstractTableModel --------------------------------------------------------------

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
        values = (row.email.lower(), row.address or "", row.variant,
                  row.status,
                  row.reason or "", str(row.attempts), format_datetime(row.updated_at))
        return values[index.column()]
