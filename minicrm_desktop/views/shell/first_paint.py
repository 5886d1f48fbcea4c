"""Run something once a window has been painted for the first time.

The app opens its database after the first paint (app.run_gui), so the window appears
before any of that work competes with it for the GIL.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

#: A window that is never painted (shown minimized, on a screen that is off) still gets
#: its work started after this long.
FALLBACK_MS = 1000


class _AfterFirstPaint(QObject):
    def __init__(self, window: QWidget, action: Callable[[], None]) -> None:
        super().__init__(window)
        self._action: Callable[[], None] | None = action
        self._window = window
        window.installEventFilter(self)
        self._fallback = QTimer(self)
        self._fallback.setSingleShot(True)
        self._fallback.timeout.connect(self._run)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if kind == QEvent.Type.Show and not self._fallback.isActive():
            self._fallback.start(FALLBACK_MS)
        elif kind == QEvent.Type.Paint and self._action is not None:
            # After the paint has finished: the next turn of the event loop.
            QTimer.singleShot(0, self._run)
        return False

    def _run(self) -> None:
        action, self._action = self._action, None
        if action is None:
            return
        self._fallback.stop()
        self._window.removeEventFilter(self)
        action()


def after_first_paint(window: QWidget, action: Callable[[], None]) -> None:
    """Call `action` once, on the GUI thread, just after `window` is first painted (or
    FALLBACK_MS after it is shown, if no paint comes)."""
    _AfterFirstPaint(window, action)
