"""MINICRM_STARTUP_PROBE=1: report when the main window is first painted, then quit.

benchmarks/startup.py starts the packaged app with it and times process start to this
line; nothing else changes, so what is measured is the real start-up path.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

PROBE_ENV = "MINICRM_STARTUP_PROBE"
SHOWN_MARK = "MINICRM main window shown"


def wanted() -> bool:
    return os.environ.get(PROBE_ENV) == "1"


class _FirstPaint(QObject):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.seen = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint and not self.seen:
            self.seen = True
            # Wall-clock time, comparable with the parent's clock; then leave the event loop
            # once the paint has finished. exit(), not quit(): quit() closes the windows
            # first, and the main window would ask whether to stop the work still running.
            if sys.stdout is not None:  # a windowed Windows build has none
                sys.stdout.write(f"{SHOWN_MARK} {time.time():.6f}\n")
                sys.stdout.flush()
            QTimer.singleShot(0, lambda: QApplication.exit(0))
        return False


def exit_when_painted(window: QWidget) -> None:
    window.installEventFilter(_FirstPaint(window))
