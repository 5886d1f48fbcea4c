"""Value editors for one condition, chosen by the field's type and the operator's shape.

Each editor shows a contract JSON value and emits `edited(value)` with the new one; it never
validates (the rule tree does, and marks the node), so a half-typed value is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDateEdit,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QWidget,
)

from minicrm_desktop.models.money import CURRENCY_SYMBOL
from minicrm_desktop.models.rule_tree import value_shape
from minicrm_desktop.models.rules_fields import FIELDS, MONEY_FIELDS, PERIOD_UNITS, FieldType
from minicrm_desktop.models.rules_values import MAX_NUMBER
from minicrm_desktop.views.common.widgets import TagChip

_ISO = Qt.DateFormat.ISODate


class ValueEditor(QWidget):
    #: The user changed the value (contract JSON).
    edited = Signal(object)
    #: Successive edits are one undo step (typing); False for discrete picks (a chip).
    merges = False

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def text_boxes(self) -> list[QLineEdit]:
        """The boxes typed into, for value suggestions."""
        return []

    def take_completion(self, _text: str) -> None:
        """A suggestion was chosen in a box (which already shows it)."""
        self.edited.emit(self.value())


class TextEditor(ValueEditor):
    merges = True

    def __init__(self, suggestions: Sequence[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line = QLineEdit()
        self.line.setObjectName("value_text")
        self.line.setPlaceholderText("Type a value")
        if suggestions:
            completer = QCompleter(list(suggestions), self.line)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            self.line.setCompleter(completer)
        self.line.textEdited.connect(lambda text: self.edited.emit(text))
        self._layout.addWidget(self.line)

    def value(self) -> str:
        return self.line.text()

    def text_boxes(self) -> list[QLineEdit]:
        return [self.line]

    def set_value(self, value: Any) -> None:
        text = value if isinstance(value, str) else ""
        if text != self.line.text():
            self.line.setText(text)


class TagEditor(ValueEditor):
    """One tag: an editable combo offering the tags that exist."""

    def __init__(self, tags: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setObjectName("value_tag")
        self.combo.setEditable(True)
        self.combo.addItems(list(tags))
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMinimumWidth(160)
        self.combo.currentTextChanged.connect(lambda text: self.edited.emit(text))
        self._layout.addWidget(self.combo)
        self._layout.addStretch(1)

    def value(self) -> str:
        return self.combo.currentText()

    def text_boxes(self) -> list[QLineEdit]:
        line = self.combo.lineEdit()
        return [line] if line is not None else []

    def set_value(self, value: Any) -> None:
        text = value if isinstance(value, str) else ""
        if text != self.combo.currentText():
            self.combo.blockSignals(True)
            self.combo.setCurrentText(text)
            self.combo.blockSignals(False)


class ChipListEditor(ValueEditor):
    """A list of texts (`in`/`notIn`): chips with a remove button, and a box to add more
    (Enter or comma adds; suggestions are the existing tags, for the tags field)."""

    def __init__(self, suggestions: Sequence[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[str] = []
        self._chips: list[TagChip] = []
        self.chips = QHBoxLayout()
        self.chips.setSpacing(4)
        self._layout.addLayout(self.chips)
        self.line = QLineEdit()
        self.line.setObjectName("value_chip_input")
        self.line.setPlaceholderText("Add a value, then Enter")
        self.line.setMinimumWidth(140)
        if suggestions:
            completer = QCompleter(list(suggestions), self.line)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            self.line.setCompleter(completer)
        self.line.installEventFilter(self)
        self.line.textEdited.connect(self._comma)
        self._layout.addWidget(self.line, 1)

    def value(self) -> list[str]:
        return list(self._items)

    def text_boxes(self) -> list[QLineEdit]:
        return [self.line]

    def take_completion(self, text: str) -> None:
        self.line.setText(text)
        self.add_typed()  # a chosen suggestion becomes a chip at once

    def set_value(self, value: Any) -> None:
        items = [str(v) for v in value] if isinstance(value, list) else []
        if items != self._items:
            self._items = items
            self._rebuild()

    def chip_texts(self) -> list[str]:
        return [chip.text() for chip in self._chips]

    def add_typed(self) -> None:
        text = self.line.text().strip().rstrip(",").strip()
        self.line.clear()
        if text and text not in self._items:
            self._items.append(text)
            self._rebuild()
            self.edited.emit(self.value())

    def remove(self, text: str) -> None:
        if text in self._items:
            self._items.remove(text)
            self._rebuild()
            self.edited.emit(self.value())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        # Enter adds the typed value, and goes no further: in a dialog it would also press
        # the default button (the wizard's Next). With nothing typed it does go on.
        if watched is self.line and event.type() == QEvent.Type.KeyPress and isinstance(
                event, QKeyEvent) and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                and self.line.text().strip():
            self.add_typed()
            return True
        return super().eventFilter(watched, event)

    def _comma(self, text: str) -> None:
        if text.endswith(","):
            self.add_typed()

    def _rebuild(self) -> None:
        while self.chips.count():
            item = self.chips.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self._chips = []
        for text in self._items:
            holder = QWidget()
            row = QHBoxLayout(holder)
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(0)
            chip = TagChip(text)
            self._chips.append(chip)
            row.addWidget(chip)
            close = QToolButton()
            close.setText("×")
            close.setAutoRaise(True)
            close.setToolTip(f"Remove {text}")
            close.clicked.connect(lambda _=False, t=text: self.remove(t))
            row.addWidget(close)
            self.chips.addWidget(holder)


class NumberEditor(ValueEditor):
    """Numbers; money shows ₹ and two decimals, counts are whole."""

    merges = True

    def __init__(self, field: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.money = field in MONEY_FIELDS
        self.integer = FIELDS[field] is FieldType.INTEGER
        self.spin = QDoubleSpinBox()
        self.spin.setObjectName("value_number")
        self.spin.setDecimals(2 if self.money else 0 if self.integer else 2)
        self.spin.setRange(-float(MAX_NUMBER), float(MAX_NUMBER))
        self.spin.setGroupSeparatorShown(True)
        self.spin.setKeyboardTracking(True)
        self.spin.setMinimumWidth(130)
        if self.money:
            self.spin.setPrefix(f"{CURRENCY_SYMBOL} ")
            self.spin.setSingleStep(100)
        self.spin.valueChanged.connect(lambda _v: self.edited.emit(self.value()))
        self._layout.addWidget(self.spin)

    def value(self) -> int | float:
        number = round(self.spin.value(), 2)
        return int(number) if number == int(number) else number

    def set_value(self, value: Any) -> None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = 0.0
        if number != self.spin.value():
            self.spin.blockSignals(True)
            self.spin.setValue(number)
            self.spin.blockSignals(False)


class DateEditor(ValueEditor):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.date = QDateEdit()
        self.date.setObjectName("value_date")
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("dd MMM yyyy")
        self.date.setMinimumWidth(130)
        self.date.dateChanged.connect(lambda _d: self.edited.emit(self.value()))
        self._layout.addWidget(self.date)

    def value(self) -> str:
        return str(self.date.date().toString(_ISO))

    def set_value(self, value: Any) -> None:
        day = QDate.fromString(str(value)[:10], _ISO) if isinstance(value, str) else QDate()
        if day.isValid() and day != self.date.date():
            self.date.blockSignals(True)
            self.date.setDate(day)
            self.date.blockSignals(False)


class PeriodEditor(ValueEditor):
    """"within the last N days/weeks/months/years"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.amount = QSpinBox()
        self.amount.setObjectName("value_amount")
        self.amount.setRange(1, 100_000)
        self.unit = QComboBox()
        self.unit.setObjectName("value_unit")
        self.unit.addItems(list(PERIOD_UNITS))
        self.amount.valueChanged.connect(lambda _v: self.edited.emit(self.value()))
        self.unit.currentIndexChanged.connect(lambda _i: self.edited.emit(self.value()))
        self._layout.addWidget(self.amount)
        self._layout.addWidget(self.unit)
        self._layout.addStretch(1)

    def value(self) -> dict[str, Any]:
        return {"amount": self.amount.value(), "unit": self.unit.currentText()}

    def set_value(self, value: Any) -> None:
        if not isinstance(value, dict):
            return
        for widget in (self.amount, self.unit):
            widget.blockSignals(True)
        if isinstance(value.get("amount"), int):
            self.amount.setValue(value["amount"])
        if value.get("unit") in PERIOD_UNITS:
            self.unit.setCurrentText(value["unit"])
        for widget in (self.amount, self.unit):
            widget.blockSignals(False)


class BoolEditor(ValueEditor):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setObjectName("value_bool")
        self.combo.addItem("Yes", True)
        self.combo.addItem("No", False)
        self.combo.currentIndexChanged.connect(lambda _i: self.edited.emit(self.value()))
        self._layout.addWidget(self.combo)
        self._layout.addStretch(1)

    def value(self) -> bool:
        return bool(self.combo.currentData())

    def set_value(self, value: Any) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(0 if value is not False else 1)
        self.combo.blockSignals(False)


class RangeEditor(ValueEditor):
    """between/notBetween: two editors of the field's type."""

    def __init__(self, low: ValueEditor, high: ValueEditor,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.low, self.high = low, high
        self.merges = low.merges
        self._layout.addWidget(low)
        self._layout.addWidget(QLabel("and"))
        self._layout.addWidget(high)
        self._layout.addStretch(1)
        low.edited.connect(lambda _v: self.edited.emit(self.value()))
        high.edited.connect(lambda _v: self.edited.emit(self.value()))

    def value(self) -> list[Any]:
        return [self.low.value(), self.high.value()]

    def set_value(self, value: Any) -> None:
        if isinstance(value, list) and len(value) == 2:
            self.low.set_value(value[0])
            self.high.set_value(value[1])


def _single(field: str, tags: Sequence[str], suggestions: Sequence[str]) -> ValueEditor:
    ftype = FIELDS[field]
    if ftype is FieldType.TAGS:
        return TagEditor(tags)
    if ftype is FieldType.BOOLEAN:
        return BoolEditor()
    if ftype is FieldType.DATETIME:
        return DateEditor()
    if ftype in (FieldType.NUMBER, FieldType.INTEGER):
        return NumberEditor(field)
    return TextEditor(suggestions)


def make_value_editor(field: str, operator: str, tags: Sequence[str] = (),
                      suggestions: Sequence[str] = ()) -> ValueEditor | None:
    """The editor for this field and operator; None when the operator takes no value."""
    shape = value_shape(field, operator)
    if shape == "none":
        return None
    if shape == "period":
        return PeriodEditor()
    if shape == "list":
        return ChipListEditor(tags if FIELDS[field] is FieldType.TAGS else suggestions)
    if shape == "range":
        return RangeEditor(_single(field, tags, suggestions), _single(field, tags, suggestions))
    return _single(field, tags, suggestions)
