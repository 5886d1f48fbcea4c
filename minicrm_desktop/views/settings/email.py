"""Settings → Email: the sender name, from-address and footer a new email campaign starts
with (each campaign may change them in the wizard). Checked as a campaign would check them,
then audited and stored."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from minicrm_desktop.services.campaigns import SENDER_NAME_LIMIT, email_problem
from minicrm_desktop.services.core.settings import (
    EMAIL_FOOTER,
    EMAIL_SENDER_ADDRESS,
    EMAIL_SENDER_NAME,
    Option,
    Settings,
)
from minicrm_desktop.views.common.widgets import ERROR_COLOR, muted_label
from minicrm_desktop.views.settings.changes import ADMINS_ONLY, SettingChanges


class EmailSettingsGroup(QGroupBox):
    #: The defaults were checked, audited and stored.
    saved = Signal()

    def __init__(self, settings: Settings, changes: SettingChanges,
                 parent: QWidget | None = None) -> None:
        super().__init__("Email", parent)
        self.setObjectName("settings_email")
        self._settings = settings
        self._changes = changes
        column = QVBoxLayout(self)
        form = QFormLayout()
        self.sender_name = QLineEdit(settings.get(EMAIL_SENDER_NAME))
        self.sender_name.setObjectName("settings_sender_name")
        self.sender_name.setMaxLength(SENDER_NAME_LIMIT)
        self.sender_address = QLineEdit(settings.get(EMAIL_SENDER_ADDRESS))
        self.sender_address.setObjectName("settings_sender_address")
        self.footer = QPlainTextEdit(settings.get(EMAIL_FOOTER))
        self.footer.setObjectName("settings_footer")
        self.footer.setFixedHeight(60)
        self.footer.setTabChangesFocus(True)
        form.addRow("Sender name:", self.sender_name)
        form.addRow("From-address:", self.sender_address)
        form.addRow("Footer:", self.footer)
        column.addLayout(form)
        column.addWidget(muted_label("New email campaigns start with these; each may change "
                                     "them. Every email must carry {unsubscribe_url}, in its "
                                     "message or this footer."))
        self.save_button = QPushButton("Save email defaults")
        self.save_button.clicked.connect(self.save)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addWidget(self.status, 1)
        column.addLayout(row)
        if not changes.allowed:
            for widget in (self.sender_name, self.sender_address, self.footer,
                           self.save_button):
                widget.setEnabled(False)
            self.status.setText(ADMINS_ONLY)

    def save(self) -> None:
        name, address = self.sender_name.text().strip(), self.sender_address.text().strip()
        footer = self.footer.toPlainText()
        problem = email_problem([], "", footer, name, address)
        if problem is None and not address:
            problem = "the from-address is empty"
        if problem:
            self._show(f"Not saved: {problem}.", error=True)
            return
        settings = self._settings
        values: list[tuple[Option[Any], object]] = [
            (EMAIL_SENDER_NAME, name), (EMAIL_SENDER_ADDRESS, address), (EMAIL_FOOTER, footer)]

        def store() -> None:
            for option, value in values:
                settings.set(option, value)
            settings.sync()
            self._show("Saved: new email campaigns start with these.")
            self.saved.emit()

        self._changes.change_all([(option, settings.get(option), value)
                                  for option, value in values],
                                 title="Saving the email defaults", then=store,
                                 failed=lambda text: self._show(text, error=True))

    def _show(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {ERROR_COLOR.name()};" if error else "")
