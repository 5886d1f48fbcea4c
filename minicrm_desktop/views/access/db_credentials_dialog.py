"""Shows a new database account's one-time password, once, with a Copy button."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from minicrm_desktop.services.access.db_accounts import DbCredentials

EXPLANATION = (
    "This password is shown only now. Pass the account and the password on privately "
    "(not by email in plain text). {email} connects with them and runs "
    "`minicrm db-password`, which replaces the password with one only their keyring "
    "knows."
)


class DbCredentialsDialog(QDialog):
    def __init__(self, credentials: DbCredentials, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Database account")
        self.setObjectName("db_credentials_dialog")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.account_edit = self._read_only(credentials.account, "db_account_name")
        form.addRow("Account:", self.account_edit)
        self.password_edit = self._read_only(credentials.password, "db_account_password")
        row = QHBoxLayout()
        row.addWidget(self.password_edit, 1)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("copy_db_password")
        self.copy_button.clicked.connect(self.copy_password)
        row.addWidget(self.copy_button)
        form.addRow("One-time password:", row)
        layout.addLayout(form)
        note = QLabel(EXPLANATION.format(email=credentials.email))
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(520, 0)

    @staticmethod
    def _read_only(value: str, name: str) -> QLineEdit:
        edit = QLineEdit(value)
        edit.setObjectName(name)
        edit.setReadOnly(True)
        return edit

    def copy_password(self) -> None:
        QApplication.clipboard().setText(self.password_edit.text())
        self.copy_button.setText("Copied")

    def done(self, result: int) -> None:
        # Nothing keeps the password once the dialog closes.
        self.password_edit.clear()
        super().done(result)
