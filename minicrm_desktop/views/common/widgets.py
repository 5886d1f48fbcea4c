"""Small widgets the pages share."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

# The one red for error text and invalid rule nodes, readable on both themes.
ERROR_COLOR = QColor("#cf222e")


class CurrentPageStack(QStackedWidget):
    """A stack as large as the page it shows. Qt's stack takes the largest of all its
    pages, both as its minimum size and in height-for-width, and a scrolling page area
    gives its widget that size: a short window would scroll for a page nobody sees."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.currentChanged.connect(self._size_to_current_page)

    def _size_to_current_page(self) -> None:
        """Pages not shown ignore their size, so only the shown one's minimum counts."""
        policy = QSizePolicy.Policy
        for index in range(self.count()):
            page = self.widget(index)
            if page is None:
                continue
            shown = policy.Preferred if index == self.currentIndex() else policy.Ignored
            page.setSizePolicy(QSizePolicy(shown, shown))
        self.updateGeometry()

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        page = self.currentWidget()
        return -1 if page is None else page.heightForWidth(width)


class PageHeader(QWidget):
    """A page title with a one-line explanation under it."""

    def __init__(self, title: str, subtitle: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.setSpacing(2)
        self.title = QLabel(title)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        layout.addWidget(self.title)
        if subtitle:
            self.subtitle = QLabel(subtitle)
            self.subtitle.setEnabled(False)  # the palette's muted text colour
            layout.addWidget(self.subtitle)


class TagChip(QLabel):
    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setObjectName("tag_chip")
        self.setStyleSheet(
            "QLabel#tag_chip { border: 1px solid palette(mid); border-radius: 9px;"
            " padding: 1px 8px; background: palette(alternate-base); }"
        )


class ElidedLabel(QLabel):
    """One line of text that gives up width when space is short, ending in "…" (the full
    text stays in the tooltip), so a long path never sets the window's minimum width."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(60)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().sizeHint()
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + 4, hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(self.minimumWidth(), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle,
                                              max(self.width(), self.minimumWidth()))
        super().setText(shown)


def value_label(text: str) -> QLabel:
    """A value on a form: wraps, and can be selected and copied."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def muted_label(text: str) -> QLabel:
    """A quiet explanatory note under a control."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setEnabled(False)
    return label


class MessageLabel(QLabel):
    """A one-line outcome under a control: hidden when empty, red for errors."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setVisible(False)

    def say(self, text: str, *, error: bool = False) -> None:
        self.setText(text)
        self.setVisible(bool(text))
        self.setStyleSheet(f"color: {ERROR_COLOR.name()};" if error else "")
