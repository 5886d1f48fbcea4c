"""The sign-in window: sign in through the system browser (RFC 8252), never in MiniCRM.

It first tries the session remembered from last time; otherwise "Sign in with Google" opens
the browser at the provider's page and shows the same address with a Copy button, because
opening a browser can fail without telling anyone. Cancel stops waiting; a timeout, a
refusal in the browser, a bad ID token or a user this database does not admit each end in a
clear message, and the user can try again.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.services.access.actor import Actor
from minicrm_desktop.services.auth import (
    DEFAULT_TIMEOUT_S,
    OAuthConfig,
    SignInCancelled,
    Waker,
    admit_identity,
    restore_identity,
    sign_in,
)
from minicrm_desktop.services.core.secrets import SecretStore
from minicrm_desktop.services.core.tasks import TaskContext, TaskRunner
from minicrm_desktop.views.common.passphrase import ask_secrets_passphrase
from minicrm_desktop.views.common.resources import app_icon
from minicrm_desktop.views.common.widgets import PageHeader

log = logging.getLogger(__name__)


class _UrlRelay(QObject):
    """Carries the authorization URL from the worker to the GUI thread (queued)."""

    url = Signal(str)


def open_in_system_browser(url: str) -> object:
    return QDesktopServices.openUrl(QUrl(url))  # its answer is not trusted


class SignInDialog(QDialog):
    #: The admitted user, emitted once, just before the dialog is accepted.
    signed_in = Signal(object)
    #: The dialog went back to waiting for the user (after a restore, error or cancel).
    idle = Signal()

    def __init__(
        self,
        config: OAuthConfig,
        engine: Engine,
        runner: TaskRunner,
        secrets: SecretStore,
        *,
        prepare_database: Callable[[], object] | None = None,
        open_browser: Callable[[str], object] = open_in_system_browser,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sign_in_dialog")
        self.setWindowTitle("Sign in — MiniCRM")
        self.setWindowIcon(app_icon())
        self.config = config
        self._engine = engine
        self._runner = runner
        self._secrets = secrets
        self._prepare = prepare_database
        self._open_browser = open_browser
        self._timeout_s = timeout_s
        self._waker: Waker | None = None
        self._busy = False
        self._closing = False
        self.actor: Actor | None = None
        self._relay = _UrlRelay(self)
        self._relay.url.connect(self._show_url, Qt.ConnectionType.QueuedConnection)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 18)
        layout.setSpacing(10)
        layout.addWidget(PageHeader("Sign in to MiniCRM",
                                    "Only people this database's admins allow can open it."))
        account = ("your Google account" if config.is_google else
                   "a test account of the development identity provider at "
                   f"{config.auth_uri.rsplit('/', 1)[0]}")
        how = QLabel(f"Sign in with {account} in your web browser. MiniCRM opens the browser "
                     f"for you and never sees your password.")
        how.setWordWrap(True)
        layout.addWidget(how)

        self.sign_in_button = QPushButton(
            "Sign in with Google" if config.is_google else "Sign in (development provider)")
        self.sign_in_button.setObjectName("sign_in_button")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.setMinimumHeight(34)
        self.sign_in_button.clicked.connect(self.start_sign_in)
        layout.addWidget(self.sign_in_button)

        self.remember = QCheckBox("Stay signed in on this computer")
        self.remember.setChecked(True)
        self.remember.setToolTip(f"Keeps the sign-in in {secrets.description}.")
        layout.addWidget(self.remember)

        self.url_caption = QLabel("Browser did not open? Open this address yourself:")
        layout.addWidget(self.url_caption)
        url_row = QHBoxLayout()
        self.url_field = QLineEdit()
        self.url_field.setObjectName("sign_in_url")
        self.url_field.setReadOnly(True)
        self.url_field.setPlaceholderText("The address appears here when you sign in.")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("copy_url_button")
        self.copy_button.clicked.connect(self.copy_url)
        url_row.addWidget(self.url_field, 1)
        url_row.addWidget(self.copy_button)
        layout.addLayout(url_row)

        self.status = QLabel()
        self.status.setObjectName("sign_in_status")
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(self.fontMetrics().lineSpacing() * 3)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_button")
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.setMinimumWidth(520)
        self._set_busy(False)

    # --- asking the user -----------------------------------------------------------------

    @classmethod
    def ask_passphrase(cls, parent: QWidget | None, *, creating: bool) -> str | None:
        """The encrypted secrets file's passphrase, or None. Tests replace this."""
        return ask_secrets_passphrase(parent, keeps="your sign-in", creating=creating)

    # --- restoring the last session ---------------------------------------------------------

    def restore(self) -> None:
        """Try the remembered session; falls back to the Sign in button."""
        if self._secrets.locked_file_exists:
            passphrase = self.ask_passphrase(self, creating=False)
            if passphrase is None:
                self._show("Enter the passphrase to stay signed in, or sign in again.")
                self.idle.emit()
                return
            self._secrets.unlock(passphrase)
        config, secrets, engine, prepare = self.config, self._secrets, self._engine, self._prepare

        def task(_ctx: TaskContext) -> Actor | None:
            if prepare is not None:
                prepare()
            identity = restore_identity(config, secrets)
            return None if identity is None else admit_identity(engine, identity)

        self._set_busy(True, waiting_for_browser=False)
        self._show("Restoring your last session…")
        self._runner.run(task, title="Restoring the session", quiet=True,
                         on_success=self._restored, on_error=self._failed)

    def _restored(self, actor: Actor | None) -> None:
        if actor is not None:
            self._admitted(actor)
            return
        self._set_busy(False)
        self._show("")
        self.idle.emit()

    # --- signing in ------------------------------------------------------------------------

    def start_sign_in(self) -> None:
        if self._busy:
            return
        secrets: SecretStore | None = self._secrets if self.remember.isChecked() else None
        note = ""
        if secrets is not None and secrets.needs_passphrase:
            passphrase = self.ask_passphrase(self, creating=not secrets.locked_file_exists)
            if passphrase is None:
                secrets = None
                note = " Without a passphrase you will sign in again next time."
            else:
                secrets.unlock(passphrase)
        waker = self._waker = Waker()
        config, engine, prepare = self.config, self._engine, self._prepare
        relay, timeout_s = self._relay, self._timeout_s

        def task(_ctx: TaskContext) -> Actor:
            if prepare is not None:
                prepare()  # the database first: no point signing in to one that won't open
            identity = sign_in(config, secrets, waker=waker, on_url=relay.url.emit,
                               open_browser=None, timeout_s=timeout_s)
            return admit_identity(engine, identity)

        self._set_busy(True, waiting_for_browser=True)
        self.url_field.clear()
        minutes = max(1, round(timeout_s / 60))
        self._show(f"Waiting for you to finish in your browser (up to {minutes} "
                   f"minute{'s' if minutes != 1 else ''})…{note}")
        self._runner.run(task, title="Signing in", quiet=True,
                         on_success=self._admitted, on_error=self._failed)

    def _show_url(self, url: str) -> None:
        self.url_field.setText(url)
        self.url_field.setCursorPosition(0)
        self.copy_button.setEnabled(True)
        try:
            self._open_browser(url)
        except Exception as exc:  # the address is on screen to copy
            log.warning("could not open the browser: %s", exc)

    def copy_url(self) -> None:
        text = self.url_field.text()
        if text:
            QGuiApplication.clipboard().setText(text)
            self._show("Address copied. Paste it into your browser's address bar.")

    def cancel(self) -> None:
        """Stop waiting for the browser; when not waiting, close (the app does not start)."""
        if self._waker is not None and self._busy:
            self._waker.cancel()
            return
        self.reject()

    def _admitted(self, actor: Actor) -> None:
        self._waker = None
        if self._closing:
            return
        self.actor = actor
        log.info("signed in as %s (%s)", actor.email, actor.role.value)
        self.signed_in.emit(actor)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._waker = None
        self._set_busy(False)
        if self._closing:
            return
        if isinstance(exc, SignInCancelled):
            self._show("Sign-in cancelled. Sign in again when you are ready.")
        elif isinstance(exc, MiniCRMError):
            self._show(str(exc), error=True)
        else:
            self._show(f"Sign-in failed unexpectedly ({type(exc).__name__}); the details are "
                       f"in the log.", error=True)
            sys.excepthook(type(exc), exc, exc.__traceback__)
        self.idle.emit()

    # --- state -----------------------------------------------------------------------------

    def _set_busy(self, busy: bool, *, waiting_for_browser: bool = False) -> None:
        self._busy = busy
        self.sign_in_button.setEnabled(not busy)
        self.remember.setEnabled(not busy)
        self.copy_button.setEnabled(bool(self.url_field.text()))
        self.cancel_button.setText("Cancel" if busy and waiting_for_browser else "Quit")

    def _show(self, text: str, *, error: bool = False) -> None:
        from minicrm_desktop.views.common.widgets import ERROR_COLOR  # as MessageLabel does

        self.status.setStyleSheet(f"color: {ERROR_COLOR.name()};" if error else "")
        self.status.setText(text)

    @property
    def status_text(self) -> str:
        return self.status.text()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        """Escape does what the Cancel button says: it stops waiting for the browser first
        (the dialog stays, to try again), and only then quits."""
        if event.key() == Qt.Key.Key_Escape and self._waker is not None and self._busy:
            self.cancel()
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        self._closing = True
        if self._waker is not None:
            self._waker.cancel()
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self._closing = True
        if self._waker is not None:
            self._waker.cancel()
        super().closeEvent(event)
