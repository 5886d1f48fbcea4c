"""The Settings page's group for a shared MySQL/MariaDB server over TLS (admins change it;
everyone else sees it read-only). Takes effect at the next start."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.services.access.actor import Actor
from minicrm_desktop.services.core.database import MYSQL_REQUIRE_TLS_ENV, MYSQL_SSL_CA_ENV
from minicrm_desktop.services.core.settings import MYSQL_REQUIRE_TLS, MYSQL_SSL_CA, Settings
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.settings.changes import SettingChanges


class ChooseCaFileDialog:
    @classmethod
    def ask(cls, parent: QWidget | None) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(parent, "CA certificate of the MySQL server",
                                              str(Path.home()),
                                              "Certificates (*.pem *.crt);;All files (*)")
        return Path(name) if name else None


class MysqlTlsGroup(QGroupBox):
    #: The settings were stored (or refused): the message shown.
    saved = Signal(str)

    def __init__(self, engine: Engine, runner: TaskRunner, settings: Settings, *,
                 actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__("Shared MySQL server", parent)
        self.setObjectName("mysql_tls_group")
        self.settings = settings
        self.changes = SettingChanges(engine, runner, actor)
        may = self.changes.allowed
        # Compact (two rows): the Settings page must fit a small screen.
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.ca_edit = QLineEdit(settings.get(MYSQL_SSL_CA))
        self.ca_edit.setObjectName("mysql_ssl_ca")
        self.ca_edit.setPlaceholderText("none: the system's certificate authorities")
        self.browse_button = QPushButton("Choose…")
        self.browse_button.clicked.connect(self.choose)
        row.addWidget(self.ca_edit, 1)
        row.addWidget(self.browse_button)
        form.addRow("CA certificate:", row)
        buttons = QHBoxLayout()
        self.require_box = QCheckBox("Require TLS")
        self.require_box.setChecked(settings.get(MYSQL_REQUIRE_TLS))
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        self.message = QLabel("Used at the next start." if may
                              else "Only an admin can change these.")
        self.message.setEnabled(False)
        buttons.addWidget(self.require_box)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.message, 1)
        form.addRow("", buttons)
        self.setToolTip("TLS for a shared MySQL/MariaDB server: the server's certificate and "
                        f"host name are verified. {MYSQL_SSL_CA_ENV} and "
                        f"{MYSQL_REQUIRE_TLS_ENV}=1 override these settings.")
        for widget in (self.ca_edit, self.browse_button, self.require_box, self.save_button):
            widget.setEnabled(may)

    def choose(self) -> None:
        path = ChooseCaFileDialog.ask(self)
        if path is not None:
            self.ca_edit.setText(str(path))

    def save(self) -> None:
        ca, require = self.ca_edit.text().strip(), self.require_box.isChecked()
        settings = self.settings

        def stored() -> None:
            settings.set(MYSQL_SSL_CA, ca)
            settings.set(MYSQL_REQUIRE_TLS, require)
            settings.sync()
            self._done("Saved; used at the next start.")

        self.save_button.setEnabled(False)
        self.changes.change_all(
            [(MYSQL_SSL_CA, settings.get(MYSQL_SSL_CA), ca),
             (MYSQL_REQUIRE_TLS, settings.get(MYSQL_REQUIRE_TLS), require)],
            title="Saving the MySQL TLS settings", then=stored, failed=self._done)

    def _done(self, text: str) -> None:
        self.save_button.setEnabled(self.changes.allowed)
        self.message.setText(text)
        self.message.setEnabled(True)
        self.saved.emit(text)
