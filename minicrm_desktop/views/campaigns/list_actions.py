"""The Campaigns list's questions for a campaign that has not started: a scheduled one's new
time, cancelling its schedule, and deleting a draft kept from the wizard. Each can be
cancelled, and Escape always answers "leave it as it is"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, QPoint
from PySide6.QtWidgets import (
    QAbstractButton,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from minicrm_desktop.services.campaigns import wizard as steps
from minicrm_desktop.views.campaigns.wizard.step import error_label
from minicrm_desktop.views.common.formatting import format_datetime


class ChangeTimeDialog(QDialog):
    """When a scheduled campaign should run instead (local time; a past time is refused)."""

    def __init__(self, parent: QWidget, name: str, current: datetime | None) -> None:
        super().__init__(parent)
        self.setObjectName("change_time_dialog")
        self.setWindowTitle("Change time")
        layout = QVBoxLayout(self)
        intro = QLabel(f"When should “{name}” run?"
                       + (f" It is set for {format_datetime(current)}." if current else ""))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.when = QDateTimeEdit()
        self.when.setObjectName("new_time")
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("dd MMM yyyy, HH:mm")
        start = current or datetime.now(UTC) + timedelta(hours=1)
        self.when.setDateTime(QDateTime.fromSecsSinceEpoch(int(start.timestamp())))
        self.when.setAccessibleName("New time")
        form.addRow("Run at", self.when)
        layout.addLayout(form)
        self.error = error_label()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Change time")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.when.dateTimeChanged.connect(self._check)
        self._check()
        self.when.setFocus()

    def chosen(self) -> datetime:
        return datetime.fromtimestamp(self.when.dateTime().toSecsSinceEpoch(), UTC)

    def _check(self, *_args: object) -> None:
        problem = steps.schedule_problem(self.chosen())
        self.error.setText(problem or "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def accept(self) -> None:
        self._check()  # the clock moved on while the dialog was open
        if not self.error.text():
            super().accept()

    @classmethod
    def ask(cls, parent: QWidget, name: str, current: datetime | None) -> datetime | None:
        dialog = cls(parent, name, current)
        try:
            return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()


def _confirm(parent: QWidget, title: str, text: str, yes_text: str, no_text: str) -> bool:
    """An irreversible step: No is the default and Escape answers it."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    yes = box.button(QMessageBox.StandardButton.Yes)
    no = box.button(QMessageBox.StandardButton.No)
    yes.setText(yes_text)
    no.setText(no_text)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setEscapeButton(no)
    return box.exec() == QMessageBox.StandardButton.Yes


def confirm_cancel_schedule(parent: QWidget, name: str, at: datetime | None) -> bool:
    when = f" set for {format_datetime(at)}" if at else ""
    return _confirm(parent, "Cancel schedule",
                    f"Cancel “{name}”{when}? It will not be sent, and this cannot be undone.",
                    "Cancel schedule", "Keep it")


def confirm_delete_draft(parent: QWidget, name: str) -> bool:
    return _confirm(parent, "Delete draft",
                    f"Delete the draft “{name}”? What was entered in it is lost.",
                    "Delete draft", "Keep it")


def row_menu(table: QTableView, pos: QPoint | None, buttons: tuple[QAbstractButton, ...]) -> None:
    """A context menu mirroring `buttons` (their texts and enabled states) for the row at
    `pos` (None: the selected row, from the keyboard)."""
    if pos is not None:
        index = table.indexAt(pos)
        if index.isValid():
            table.selectRow(index.row())
    elif rows := table.selectionModel().selectedRows():
        pos = table.visualRect(rows[0]).center()
    menu = QMenu(table)
    menu.setObjectName("row_menu")
    for button in buttons:
        action = menu.addAction(button.text())
        action.setEnabled(button.isEnabled())
        action.triggered.connect(button.click)
    menu.exec(table.viewport().mapToGlobal(pos or QPoint(0, 0)))
    menu.deleteLater()
