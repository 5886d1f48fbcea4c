"""The global exception hook and the error dialog.

Any uncaught exception, on any thread, is logged with its traceback and then handed to
the GUI thread by a queued signal, where a dialog shows it. Expected environment errors
(MiniCRMError: database unreachable, bad file) get a plain message; bugs get a crash
report with copyable details and the offer to quit, since the app may be in a bad state.
Each kind of error is shown once; repeats are only logged.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.services.core.redact import scrub

log = logging.getLogger("minicrm_desktop")


class ErrorDialog(QDialog):
    def __init__(self, title: str, message: str, details: str, *, is_bug: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("error_dialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        self.details = details
        icon = QLabel()
        kind = (QStyle.StandardPixmap.SP_MessageBoxCritical if is_bug
                else QStyle.StandardPixmap.SP_MessageBoxWarning)
        icon.setPixmap(self.style().standardIcon(kind).pixmap(40, 40))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.message_label = QLabel(message)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addWidget(self.message_label, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        self.details_box = QPlainTextEdit(details)
        self.details_box.setReadOnly(True)
        self.details_box.setVisible(bool(details))
        self.details_box.setMinimumHeight(180)
        layout.addWidget(self.details_box)
        buttons = QDialogButtonBox()
        self.copy_button = QPushButton("Copy details")
        self.copy_button.clicked.connect(self.copy_details)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setVisible(bool(details))  # after addButton, which shows it
        self.quit_button: QPushButton | None = None
        if is_bug:
            self.quit_button = buttons.addButton("Quit MiniCRM",
                                                 QDialogButtonBox.ButtonRole.DestructiveRole)
            self.quit_button.clicked.connect(self._quit)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.accept)
        close.setDefault(True)
        layout.addWidget(buttons)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(f"{self.message_label.text()}\n\n{self.details}")

    def _quit(self) -> None:
        self.accept()
        app = QApplication.instance()
        if app is not None:
            for window in QApplication.topLevelWidgets():
                window.close()
            app.exit(70)  # EX_SOFTWARE


class ErrorReporter(QObject):
    """Receives exceptions from any thread and shows them on the GUI thread."""

    _report = Signal(str, str, str, bool)  # title, message, details, is_bug
    #: Emitted on the GUI thread after a dialog is shown (for tests and the status bar).
    shown = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._seen: set[tuple[str, str, int]] = set()
        self._lock = threading.Lock()
        self.dialogs: list[ErrorDialog] = []
        self.dialog_parent: QWidget | None = None
        self._report.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        sys.excepthook = self.excepthook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        sys.excepthook = sys.__excepthook__
        threading.excepthook = threading.__excepthook__

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def excepthook(self, exc_type: type[BaseException], exc: BaseException,
                   tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.exit(130)
            return
        # Known secrets (the database password) never reach the log, the dialog or the
        # clipboard, whatever message the exception carries.
        details = scrub("".join(traceback.format_exception(exc_type, exc, tb)))
        if isinstance(exc, MiniCRMError):
            message = scrub(str(exc))
            log.warning("%s", message)
            self._report.emit("MiniCRM", message, "", False)
            return
        log.error("Unexpected error\n%s", details)
        if not self._first_time(exc_type, tb):
            return
        message = (
            "Something went wrong inside MiniCRM. The details below have been written to "
            "the log file. You can keep working, but if the app misbehaves, quit and start "
            f"it again.\n\n{exc_type.__name__}: {scrub(str(exc))}"
        )
        self._report.emit("MiniCRM: unexpected error", message, details, True)

    def _first_time(self, exc_type: type[BaseException], tb: TracebackType | None) -> bool:
        frames = traceback.extract_tb(tb) if tb is not None else []
        last = frames[-1] if frames else None
        key = (exc_type.__qualname__, last.filename if last else "", last.lineno or 0
               if last else 0)
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True

    @Slot(str, str, str, bool)
    def _show(self, title: str, message: str, details: str, is_bug: bool) -> None:
        dialog = ErrorDialog(title, message, details, is_bug=is_bug, parent=self.dialog_parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda *_: self._forget(dialog))
        self.dialogs.append(dialog)
        dialog.open()  # window-modal, does not block the caller
        self.shown.emit(dialog)

    def _forget(self, dialog: ErrorDialog) -> None:
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)
