"""Users and allowed domains as small tables (a few hundred rows at most: loaded whole)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QPalette

from minicrm_desktop.services.access.users import DomainRow, UserRow
from minicrm_desktop.views.common.formatting import format_datetime
from minicrm_desktop.views.common.titled_model import ModelIndex, TitledTableModel

T = TypeVar("T")

USER_COLUMNS = ("Email", "Name", "Role", "Status", "Last sign-in", "Database account")
DOMAIN_COLUMNS = ("Domain", "Role", "Allowed by")


class _RowsModel(TitledTableModel, Generic[T]):

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[T] = []

    def set_rows(self, rows: Sequence[T]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row(self, row: int) -> T | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def values(self, item: T) -> tuple[str, ...]:
        raise NotImplementedError

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        item = self.row(index.row())
        if item is None or not 0 <= index.column() < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.values(item)[index.column()]
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren)


LOCAL_USER_ID = 0  # the local admin of an embedded database: shown, never a stored user


class UsersModel(_RowsModel[UserRow]):
    columns = USER_COLUMNS

    def values(self, item: UserRow) -> tuple[str, ...]:
        if item.id == LOCAL_USER_ID:
            return (item.email, item.name, item.role.value.capitalize(), "Active",
                    "no sign-in (local mode)", "")
        return (item.email, item.name, item.role.value.capitalize(),
                "Active" if item.active else "Deactivated",
                format_datetime(item.last_sign_in_at) or "never", item.db_account or "")

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        item = self.row(index.row()) if index.isValid() else None
        if item is not None and item.id == LOCAL_USER_ID:  # nothing to change on it
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
        return super().flags(index)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self.row(index.row()) if index.isValid() else None
        if role == Qt.ItemDataRole.ToolTipRole and item is not None:
            return item.email if item.id != LOCAL_USER_ID else (
                "You, on this computer: an embedded database without sign-in has one "
                "local admin.")
        if role == Qt.ItemDataRole.ForegroundRole and item is not None and not item.active:
            return QPalette().brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        return super().data(index, role)

    def row_of(self, email: str) -> int | None:
        for n, item in enumerate(self.rows):
            if item.email == email:
                return n
        return None


class DomainsModel(_RowsModel[DomainRow]):
    columns = DOMAIN_COLUMNS

    def values(self, item: DomainRow) -> tuple[str, ...]:
        return (item.domain, item.role.value.capitalize(), item.added_by or "")
