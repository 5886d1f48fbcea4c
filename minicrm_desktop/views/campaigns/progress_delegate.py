"""Draws a running (or paused) campaign's progress as a progress bar in its table cell."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

from minicrm_desktop.views.campaigns.history_model import ACTIVE, ProgressRole, StatusRole


class ProgressDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        if index.data(StatusRole) not in ACTIVE:
            super().paint(painter, option, index)
            return
        fraction = float(index.data(ProgressRole) or 0.0)
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(4, 5, -4, -5)
        bar.minimum = 0
        bar.maximum = 1000
        bar.progress = round(fraction * 1000)
        bar.text = f"{fraction:.0%}"
        bar.textVisible = True
        # Qt 6 takes the orientation from the state flags: without Horizontal the bar is
        # drawn as a vertical one squeezed into the cell.
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        bar.palette = option.palette
        bar.fontMetrics = option.fontMetrics
        style = option.widget.style() if option.widget else QApplication.style()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)
