"""Draws a rule row with its hint at the right end: a group's count ("412 customers"), or
"set a value" beside an inactive condition, in a muted colour so the rule reads first."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from minicrm_desktop.views.segments.rule_model import HINT_ROLE

_GAP = 16
_PAD = 6


class RuleRowDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    @staticmethod
    def _hint(index: QModelIndex | QPersistentModelIndex) -> str:
        hint = index.data(HINT_ROLE)
        return hint if isinstance(hint, str) else ""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        hint = self._hint(index)
        if not hint:
            super().paint(painter, option, index)
            return
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is None:
            super().paint(painter, option, index)
            return
        rect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        # First the row's background, selection and focus across the whole width...
        back = QStyleOptionViewItem(option)
        self.initStyleOption(back, index)
        back.text = ""
        back.features &= ~QStyleOptionViewItem.ViewItemFeature.HasDecoration
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, back, painter, widget)
        # ...then the icon and label, stopping short of the hint...
        width = option.fontMetrics.horizontalAdvance(hint) + _PAD
        label = QStyleOptionViewItem(option)
        self.initStyleOption(label, index)
        label.rect = rect.adjusted(0, 0, -(width + _GAP), 0)
        label.state &= ~(QStyle.StateFlag.State_Selected | QStyle.StateFlag.State_HasFocus
                         | QStyle.StateFlag.State_MouseOver)
        if selected:
            label.palette.setColor(QPalette.ColorRole.Text,
                                   option.palette.color(QPalette.ColorRole.HighlightedText))
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, label, painter, widget)
        # ...and the hint, muted.
        painter.save()
        role = QPalette.ColorRole.HighlightedText if selected else \
            QPalette.ColorRole.PlaceholderText
        painter.setPen(option.palette.color(role))
        painter.drawText(rect.adjusted(0, 0, -_PAD, 0),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, hint)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        hint = self._hint(index)
        if hint:
            size.setWidth(size.width() + _GAP + _PAD
                          + option.fontMetrics.horizontalAdvance(hint))
        return size
