"""The Audit page (admins): the append-only log of who did what, filtered by user, action,
dates and text, paged as it scrolls, exportable to CSV."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.services.access.actor import Actor
from minicrm_desktop.services.access.audit import Action, AuditFilter, write_audit_csv
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskHandle, TaskRunner
from minicrm_desktop.views.access.audit_log_model import AuditLogModel
from minicrm_desktop.views.common.file_dialogs import SaveCsvDialog
from minicrm_desktop.views.common.widgets import PageHeader

FILTER_DELAY_MS = 300
_NO_DATE = QDate(2000, 1, 1)  # the date edits' minimum, shown as "any"
_FAMILIES = ("import.", "segment.", "campaign.", "user.", "domain.")  # offered as "campaign.*"


class AuditPage(QWidget):
    #: The log was exported: (path, rows written).
    exported = Signal(str, int)

    def __init__(self, engine: Engine, runner: TaskRunner, bus: EventBus, *, actor: Actor,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.runner = runner
        self.actor = actor
        self.model = AuditLogModel(engine, runner, actor, self)
        self._export: TaskHandle[Any] | None = None
        self._started = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(PageHeader("Audit log", "Who did what, and when. Entries are never "
                                    "changed or removed."))

        bar = QHBoxLayout()
        self.user_edit = QLineEdit()
        self.user_edit.setObjectName("audit_user")
        self.user_edit.setPlaceholderText("user@example.com")
        self.user_edit.setClearButtonEnabled(True)
        self.action_box = QComboBox()
        self.action_box.setObjectName("audit_action")
        self.action_box.addItem("Any action", None)
        for family in _FAMILIES:
            self.action_box.addItem(f"{family}*", family)
        for action in Action.all():
            self.action_box.addItem(action, action)
        self.since_edit = _date_edit("audit_since")
        self.until_edit = _date_edit("audit_until")
        self.text_edit = QLineEdit()
        self.text_edit.setObjectName("audit_text")
        self.text_edit.setPlaceholderText("Search details")
        self.text_edit.setClearButtonEnabled(True)
        # Two rows, so the page fits the window's narrowest width.
        dates = QHBoxLayout()
        for row, fields in ((bar, (("User:", self.user_edit), ("Action:", self.action_box),
                                   ("Text:", self.text_edit))),
                            (dates, (("From:", self.since_edit), ("To:", self.until_edit)))):
            for label, widget in fields:
                caption = QLabel(label)
                caption.setBuddy(widget)
                widget.setAccessibleName(label.rstrip(":"))
                row.addWidget(caption)
                row.addWidget(widget, 1 if isinstance(widget, QLineEdit) else 0)
        dates.addStretch(1)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self.export_csv)
        dates.addWidget(self.export_button)
        layout.addLayout(bar)
        layout.addLayout(dates)

        self.table = QTableView()
        self.table.setObjectName("audit_table")
        self.table.setAccessibleName("Audit log entries")
        self.table.setTabKeyNavigation(False)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        # Fixed starting widths (rows arrive page by page; sizing to contents would jump).
        width = self.fontMetrics().horizontalAdvance
        for column, sample in enumerate(("29 Nov 2026, 23:59:59", "someone@example.com",
                                         "campaign.schedule")):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width(sample) + 24)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        # The last column ("Database account") at least as wide as its title.
        for column in range(4, self.model.columnCount()):
            title = str(self.model.headerData(column, Qt.Orientation.Horizontal))
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width(title) + 24)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        layout.addWidget(self.table, 1)
        self.message = QLabel("")
        self.message.setEnabled(False)
        layout.addWidget(self.message)

        # Typing waits for a pause before querying; picking a value applies at once.
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(FILTER_DELAY_MS)
        self._debounce.timeout.connect(self.apply_filter)
        self.user_edit.textChanged.connect(lambda _t: self._debounce.start())
        self.text_edit.textChanged.connect(lambda _t: self._debounce.start())
        self.action_box.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.since_edit.dateChanged.connect(lambda _d: self.apply_filter())
        self.until_edit.dateChanged.connect(lambda _d: self.apply_filter())
        self.model.loaded.connect(self._loaded)
        self.model.load_failed.connect(lambda text: self.message.setText(text))
        bus.database_ready.connect(self.start)

    def start(self) -> None:
        self._started = True
        self.apply_filter()

    def showEvent(self, event: Any) -> None:
        # The log grows while the app runs: show the newest entries each time.
        if self._started:
            self.apply_filter()
        super().showEvent(event)

    def current_filter(self) -> AuditFilter:
        return AuditFilter(
            user=self.user_edit.text().strip() or None,
            action=self.action_box.currentData(),
            since=_start_of(self.since_edit.date()),
            until=_end_of(self.until_edit.date()),
            text=self.text_edit.text().strip() or None,
        )

    def apply_filter(self) -> None:
        self._debounce.stop()
        self.model.show(self.current_filter())

    def _loaded(self) -> None:
        n = self.model.rowCount()
        more = "+" if self.model.canFetchMore() else ""
        self.message.setText(f"{n:,}{more} entries" if n else "No entries match.")

    def export_csv(self) -> None:
        if self._export is not None:
            return
        path = SaveCsvDialog.ask(self, "minicrm-audit.csv", "Export the audit log")
        if path is None:
            return
        engine, where, actor = self.engine, self.current_filter(), self.actor

        def task(_ctx: object) -> int:
            with Path(path).open("w", newline="", encoding="utf-8") as out:
                return write_audit_csv(engine, where, out, actor=actor)

        self.export_button.setEnabled(False)
        self._export = self.runner.run(task, title="Exporting the audit log",
                                       on_success=lambda n: self._exported(path, n),
                                       on_error=self._export_failed)

    def _exported(self, path: Path, rows: int) -> None:
        self._export = None
        self.export_button.setEnabled(True)
        self.message.setText(f"{rows:,} entries exported to {path.name}")
        self.exported.emit(str(path), rows)

    def _export_failed(self, exc: BaseException) -> None:
        self._export = None
        self.export_button.setEnabled(True)
        self.message.setText(f"Export failed: {exc}")

    def shutdown(self) -> None:
        self._debounce.stop()
        self.model.cancel()
        if self._export is not None:
            self._export.cancel()
            self._export = None


class DateEdit(QDateEdit):
    """A date field that Tab leaves. QDateEdit uses Tab to step through its day, month
    and year sections, and on "any" (the special value) it never reaches the last
    section, so Tab stayed inside for good; the arrow keys still step sections."""

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802, A002 - Qt API
        return QWidget.focusNextPrevChild(self, next)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
            event.ignore()  # the window moves the focus on
            return
        super().keyPressEvent(event)


def _date_edit(name: str) -> QDateEdit:
    edit = DateEdit()
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd MMM yyyy")
    edit.setMinimumDate(_NO_DATE)
    edit.setSpecialValueText("any")  # shown while the date is the minimum
    edit.setDate(_NO_DATE)
    return edit


def _start_of(day: QDate) -> datetime | None:
    """Local midnight at the start of `day`, as an aware instant (None for "any")."""
    if day == _NO_DATE:
        return None
    local = datetime.combine(day.toPython(), time()).astimezone()  # type: ignore[arg-type]
    return local.astimezone(UTC)


def _end_of(day: QDate) -> datetime | None:
    return None if day == _NO_DATE else _start_of(day.addDays(1))
