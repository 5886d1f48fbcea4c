"""The message page's choice of how variants reach the audience: an even split, or a test
on a share of the audience, a wait, and the winner (by a metric) to the rest."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

#: (label, seconds) of the wait's units; an hour by default, as the CLI's --ab-wait.
WAIT_UNITS = (("seconds", 1), ("minutes", 60), ("hours", 3600), ("days", 86_400))
DEFAULT_SHARE = 20
METRICS = (("delivery rate", "delivered"), ("opens (engagement)", "engagement"))
NO_OPENS = "The vendor reports no opens: the winner is chosen by delivery rate."


class SplitChoice(QGroupBox):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("How the variants are sent", parent)
        self.setObjectName("split_choice")
        column = QVBoxLayout(self)
        self.even_radio = QRadioButton("Split evenly")
        self.even_radio.setToolTip("Each variant goes to an equal share of the whole audience")
        self.winner_radio = QRadioButton("Test first, then send the winner to the rest")
        self.even_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.even_radio)
        group.addButton(self.winner_radio)
        choice = QHBoxLayout()
        choice.addWidget(self.even_radio)
        choice.addWidget(self.winner_radio)
        choice.addStretch(1)
        column.addLayout(choice)
        self.details = QWidget()
        row = QHBoxLayout(self.details)
        row.setContentsMargins(0, 0, 0, 0)
        self.share = QSpinBox()
        self.share.setObjectName("ab_share")
        self.share.setRange(1, 99)
        self.share.setValue(DEFAULT_SHARE)
        self.share.setSuffix(" %")
        self.share.setAccessibleName("Test share of the audience")
        self.wait = QSpinBox()
        self.wait.setObjectName("ab_wait")
        self.wait.setRange(0, 999)
        self.wait.setValue(1)
        self.wait.setAccessibleName("Wait before choosing the winner")
        self.unit = QComboBox()
        self.unit.setObjectName("ab_wait_unit")
        for text, _seconds in WAIT_UNITS:
            self.unit.addItem(text)
        self.unit.setCurrentIndex(2)
        self.metric_choice = QComboBox()
        self.metric_choice.setObjectName("ab_metric")
        for text, value in METRICS:
            self.metric_choice.addItem(text, value)
        labelled: tuple[tuple[str | None, QWidget], ...] = (
            ("Test on", self.share), ("wait", self.wait), (None, self.unit),
            ("winner by", self.metric_choice))
        for caption, widget in labelled:
            if caption:
                label = QLabel(caption)
                label.setBuddy(widget)
                row.addWidget(label)
            row.addWidget(widget)
        row.addStretch(1)
        column.addWidget(self.details)
        self.even_radio.toggled.connect(self._changed)
        for spin in (self.share, self.wait):
            spin.valueChanged.connect(self._changed)
        for combo in (self.unit, self.metric_choice):
            combo.currentIndexChanged.connect(self._changed)
        self._changed()

    def set_variant_count(self, count: int) -> None:
        """A winner needs two variants to compare: with one, only the even split."""
        self.winner_radio.setEnabled(count > 1)
        self.winner_radio.setToolTip("" if count > 1 else "Add a second variant to test it")
        if count < 2:
            self.even_radio.setChecked(True)
        self.setVisible(count > 1)

    def set_engagement_available(self, available: bool) -> None:
        model = self.metric_choice.model()
        assert isinstance(model, QStandardItemModel)
        engagement = model.item(1)
        engagement.setEnabled(available)
        self.metric_choice.setToolTip("" if available else NO_OPENS)
        if not available:
            self.metric_choice.setCurrentIndex(0)

    def test_share(self) -> int | None:
        return self.share.value() if self.winner_radio.isChecked() else None

    def wait_seconds(self) -> int:
        return self.wait.value() * WAIT_UNITS[self.unit.currentIndex()][1]

    def chosen_metric(self) -> str:
        return str(self.metric_choice.currentData())

    def restore(self, share: int | None, wait_seconds: int, metric: str) -> None:
        """Show a saved choice (a reopened draft): the wait in its largest whole unit."""
        (self.winner_radio if share is not None else self.even_radio).setChecked(True)
        if share is not None:
            self.share.setValue(share)
        unit = 2 if wait_seconds == 0 else max(
            i for i, (_t, size) in enumerate(WAIT_UNITS) if wait_seconds % size == 0)
        self.unit.setCurrentIndex(unit)
        self.wait.setValue(wait_seconds // WAIT_UNITS[unit][1])
        self.metric_choice.setCurrentIndex(max(0, self.metric_choice.findData(metric)))

    def _changed(self, *_args: object) -> None:
        self.details.setEnabled(self.winner_radio.isChecked())
        self.changed.emit()
