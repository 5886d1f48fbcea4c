"""Sign-in on the Settings page and in the status bar: who is signed in, the OAuth client,
where secrets are kept, and Sign out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.services.access.actor import Actor
from minicrm_desktop.services.auth import (
    CLIENT_SECRETS_ENV,
    GOOGLE_CLIENT_SECRETS,
    LOCAL_MODE_TEXT,
    OAuthConfig,
    load_client_secrets,
    resolve_oauth_config,
)
from minicrm_desktop.services.core.secrets import SecretStore, default_secret_store
from minicrm_desktop.services.core.settings import Settings
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.common.widgets import muted_label, value_label

if TYPE_CHECKING:
    from minicrm_desktop.views.settings.changes import SettingChanges
    from minicrm_desktop.views.shell import MainWindow

log = logging.getLogger(__name__)


def account_text(actor: Actor) -> str:
    if actor.user_id is None:
        return LOCAL_MODE_TEXT
    return f"Signed in as {actor.email} ({actor.role.value})"


class AccountGroup(QGroupBox):
    """The "Sign-in" section of the Settings page."""

    signed_out = Signal(str)  # what happened, for the user
    client_saved = Signal(str)  # the client-secrets file was checked, audited and stored

    def __init__(self, actor: Actor, settings: Settings, runner: TaskRunner,
                 secrets: SecretStore | None = None, *, changes: SettingChanges,
                 config: OAuthConfig | None = None,
                 find_secrets: Callable[[], SecretStore] = default_secret_store,
                 parent: QWidget | None = None) -> None:
        super().__init__("Sign-in", parent)
        self.setObjectName("settings_account")
        self._actor = actor
        self._settings = settings
        self._runner = runner
        self._changes = changes
        self._secrets = secrets
        self._find_secrets = find_secrets
        self._config, problem = config, ""
        if config is None:
            try:
                self._config = resolve_oauth_config(settings)
            except MiniCRMError as exc:
                problem = str(exc)

        column = QVBoxLayout(self)
        form = QFormLayout()
        self.who = value_label(account_text(actor))
        self.who.setObjectName("settings_account_who")
        form.addRow("Account:", self.who)
        self.client = value_label(self._client_text(problem))
        client_row = QHBoxLayout()
        client_row.addWidget(self.client, 1)
        self.choose_button = QPushButton("Choose client-secrets JSON…")
        self.choose_button.clicked.connect(self.choose_client_secrets)
        self.choose_button.setEnabled(changes.allowed)  # the service checks it again
        client_row.addWidget(self.choose_button, 0, Qt.AlignmentFlag.AlignTop)
        form.addRow("OAuth client:", client_row)
        self.secrets_where = value_label("…")
        form.addRow("Secrets kept in:", self.secrets_where)
        column.addLayout(form)
        self.note = muted_label("Google → Cloud console → Credentials → OAuth client ID of type "
                           f"\"Desktop app\"; or set {CLIENT_SECRETS_ENV}. Takes effect at the "
                           "next start.")
        column.addWidget(self.note)
        row = QHBoxLayout()
        row.addStretch(1)
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setObjectName("sign_out_button")
        self.sign_out_button.setEnabled(actor.user_id is not None)
        self.sign_out_button.clicked.connect(self.sign_out)
        row.addWidget(self.sign_out_button)
        column.addLayout(row)
        self._finding = False
        if secrets is not None:
            self._use_store(secrets)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        """Find the secret store when the section is first seen, not at start-up: choosing
        the keyring imports it and asks D-Bus (or the like), a fifth of a second that would
        otherwise compete with the first paint. Not on the GUI thread."""
        super().showEvent(event)
        if self._secrets is None and not self._finding:
            self._finding = True
            find = self._find_secrets
            self._runner.run(lambda _ctx: find(), title="Finding the secret store",
                             quiet=True, on_success=self._use_store)

    def _client_text(self, problem: str) -> str:
        if problem:
            return problem
        if self._config is None:
            return "None configured (sign-in off)"
        return f"{self._config.provider_name}: {self._config.source}"

    def _use_store(self, store: SecretStore) -> None:
        self._secrets = store
        self.secrets_where.setText(store.description)

    def choose_client_secrets(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "OAuth client secrets — MiniCRM",
                                              str(Path.home()), "JSON files (*.json)")
        if name:
            self.use_client_secrets(Path(name))

    def use_client_secrets(self, path: Path) -> bool:
        """Check the file and remember it; a bad file is refused with the reason."""
        try:
            config = load_client_secrets(path)
        except MiniCRMError as exc:
            QMessageBox.warning(self, "MiniCRM", str(exc))
            return False
        settings = self._settings

        def store() -> None:
            settings.set(GOOGLE_CLIENT_SECRETS, str(path))
            settings.sync()
            self.client.setText(f"{config.provider_name}: {path} (from the next start)")
            self.client_saved.emit(str(path))

        self._changes.change(GOOGLE_CLIENT_SECRETS, settings.get(GOOGLE_CLIENT_SECRETS),
                             str(path), then=store,
                             failed=self._warn)
        return True

    def _warn(self, text: str) -> None:
        QMessageBox.warning(self, "MiniCRM", text)

    def sign_out(self) -> None:
        from minicrm_desktop.services.auth import sign_out

        config, store, find = self._config, self._secrets, self._find_secrets
        self.sign_out_button.setEnabled(False)
        self._runner.run(lambda _ctx: sign_out(config, store or find()),
                         title="Signing out",
                         on_success=self._signed_out, on_error=self._failed)

    def _signed_out(self, message: str) -> None:
        log.info("signed out: %s", message)
        self.signed_out.emit(message)

    def _failed(self, exc: BaseException) -> None:
        self.sign_out_button.setEnabled(True)
        text = str(exc) if isinstance(exc, MiniCRMError) else f"Signing out failed ({exc!r})."
        QMessageBox.warning(self, "MiniCRM", text)


def install_account_ui(window: MainWindow, actor: Actor, settings: Settings,
                       runner: TaskRunner) -> None:
    """Add the account to the status bar, and the Sign-in section to the Settings page
    (made when that page is first shown)."""
    status = QLabel(account_text(actor))
    status.setObjectName("account_status")
    window.statusBar().addPermanentWidget(status)

    def signed_out(message: str) -> None:
        QMessageBox.information(window, "Signed out — MiniCRM",
                                f"{message}\n\nMiniCRM closes now; sign in again at the "
                                "next start.")
        window.close()

    def make() -> AccountGroup:
        # Loaded with the Settings page: its audit code and models are not needed at start.
        from minicrm_desktop.views.settings.changes import SettingChanges

        changes = SettingChanges(window.services.engine, runner, actor)
        group = AccountGroup(actor, settings, runner, changes=changes,
                             find_secrets=window.services.secrets)
        group.signed_out.connect(signed_out)
        return group

    window.add_settings_section(make)
