"""The audit log as a table, newest first, loaded page by page (keyset on the entry id)
as the view scrolls, through the filter the Audit page sets."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QObject, Qt
from sqlalchemy import Engine

from minicrm_desktop.services.access.actor import Actor
from minicrm_desktop.services.access.audit import AuditFilter, AuditRow, audit_page
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.common.keyset_model import KeysetTableModel, ModelIndex

AUDIT_PAGE_SIZE = 200
AUDIT_COLUMNS = ("When", "User", "Action", "Detail", "Database account")


def describe_detail(detail: str) -> str:
    """`{"name": "VIP", "segment_id": 3}` shown as `name: VIP · segment_id: 3`."""
    try:
        data = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(data, dict):
        return detail
    return " · ".join(f"{key}: {value if isinstance(value, str) else json.dumps(value)}"
                      for key, value in data.items())


class AuditLogModel(KeysetTableModel):
    columns = AUDIT_COLUMNS

    def __init__(self, engine: Engine, runner: TaskRunner, actor: Actor,
                 parent: QObject | None = None) -> None:
        super().__init__(engine, runner, parent)
        self.actor = actor
        self.where = AuditFilter()

    def show(self, where: AuditFilter) -> None:
        """Show the entries `where` selects, from the newest."""
        self.where = where
        self._clear()
        self._fetch(None)

    def _fetch_after(self, last: AuditRow) -> None:
        self._fetch(last.id)

    def _fetch(self, before_id: int | None) -> None:
        engine, where, actor = self._engine, self.where, self.actor
        self._start(
            lambda: audit_page(engine, where, actor=actor, before_id=before_id,
                               limit=AUDIT_PAGE_SIZE),
            "Loading the audit log",
            lambda rows: self._append(rows, AUDIT_PAGE_SIZE),
        )

    # --- QAbstractTableModel --------------------------------------------------------------

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        row = self.row(index.row())
        if row is None or not 0 <= index.column() < len(AUDIT_COLUMNS):
            return None
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 3:
            return describe_detail(row.detail)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        values = (row.at.astimezone().strftime("%d %b %Y, %H:%M:%S"), row.user_email, row.action,
                  describe_detail(row.detail), row.db_account or "")
        return values[index.column()]
