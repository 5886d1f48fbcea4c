"""A visible keyboard focus on the controls Fusion draws none for: tables, lists and trees
(with no current item, or none at all) and a page's default button (drawn framed whether
focused or not). One frame follows the focus from widget to widget."""

from __future__ import annotations

import shiboken6
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QFocusFrame,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QWidget,
)


def needs_ring(widget: QWidget) -> bool:
    if isinstance(widget, QTextEdit | QPlainTextEdit):
        return False  # the text cursor shows where the focus is
    if isinstance(widget, QAbstractScrollArea):
        return True
    return isinstance(widget, QPushButton) and widget.isDefault()


class FocusRing:
    """Moves one QFocusFrame (drawn in the palette's highlight colour) to the focused
    widget when it needs one, and hides it otherwise."""

    def __init__(self) -> None:
        self.frame: QFocusFrame | None = None

    def follow(self, widget: QWidget | None) -> None:
        if self.frame is not None and not shiboken6.isValid(self.frame):
            self.frame = None  # it went with the dialog it was drawn in
        if widget is None or not needs_ring(widget):
            if self.frame is not None:
                self.frame.setWidget(None)  # type: ignore[arg-type]  # Qt takes nullptr
            return
        if self.frame is None or self.frame.window() is not widget.window():
            if self.frame is not None:
                self.frame.setWidget(None)  # type: ignore[arg-type]  # Qt takes nullptr
                self.frame.deleteLater()
            self.frame = QFocusFrame(widget.window())
            self.frame.setObjectName("focus_ring")
        palette = QPalette(widget.palette())
        palette.setColor(QPalette.ColorRole.WindowText,
                         widget.palette().color(QPalette.ColorRole.Highlight))
        self.frame.setPalette(palette)
        self.frame.setWidget(widget)
