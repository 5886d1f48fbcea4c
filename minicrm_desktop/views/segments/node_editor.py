"""The panel under the rule tree that edits the selected node.

A group gets AND/OR, NOT and "add" buttons; a condition gets field and operator pickers
(the operators are exactly the field type's) and the value editor for its type. Every
change goes to the model as an undoable command; the panel re-reads the node after each
change, so undo and redo show up here too.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.models.rule_tree import ConditionNode, GroupNode, Node, retarget
from minicrm_desktop.models.rules_fields import FIELDS, FieldType, operators_for
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.segments.rule_editors import ValueEditor, make_value_editor
from minicrm_desktop.views.segments.rule_labels import field_label, operator_label
from minicrm_desktop.views.segments.rule_model import RuleTreeModel
from minicrm_desktop.views.segments.suggest import ValueSuggester, suggested_field


class GroupPanel(QWidget):
    def __init__(self, model: RuleTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.node: GroupNode | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Match"))
        self.all_button = QRadioButton("&All (AND)")
        self.any_button = QRadioButton("An&y (OR)")
        self.buttons = QButtonGroup(self)
        self.buttons.addButton(self.all_button)
        self.buttons.addButton(self.any_button)
        self.all_button.toggled.connect(self._combinator)
        row.addWidget(self.all_button)
        row.addWidget(self.any_button)
        self.not_box = QCheckBox("&Not (exclude these)")
        self.not_box.setObjectName("group_not")
        self.not_box.toggled.connect(self._negated)
        row.addWidget(self.not_box)
        row.addStretch(1)

    def show_node(self, node: GroupNode) -> None:
        self.node = node
        for widget in (self.all_button, self.any_button, self.not_box):
            widget.blockSignals(True)
        (self.all_button if node.combinator == "and" else self.any_button).setChecked(True)
        self.not_box.setChecked(node.negated)
        for widget in (self.all_button, self.any_button, self.not_box):
            widget.blockSignals(False)

    def _combinator(self, all_checked: bool) -> None:
        if self.node is not None:
            self.model.edit_group(self.node, "and" if all_checked else "or", self.node.negated)

    def _negated(self, negated: bool) -> None:
        if self.node is not None:
            self.model.edit_group(self.node, self.node.combinator, negated)


class ConditionPanel(QWidget):
    def __init__(self, model: RuleTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.node: ConditionNode | None = None
        self.tags: list[str] = []
        self.value_editor: ValueEditor | None = None
        #: Suggests values from the database, once the host gives it one.
        self.suggester: ValueSuggester | None = None
        self._editor_key: tuple[str, str, int] | None = None
        self._tags_version = 0
        self._shown: tuple[object, ...] | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.field_combo = QComboBox()
        self.field_combo.setObjectName("field_combo")
        for name in FIELDS:
            self.field_combo.addItem(field_label(name), name)
        self.field_combo.currentIndexChanged.connect(self._field_chosen)
        self.operator_combo = QComboBox()
        self.operator_combo.setObjectName("operator_combo")
        self.operator_combo.setMinimumWidth(150)
        self.operator_combo.currentIndexChanged.connect(self._operator_chosen)
        row.addWidget(self.field_combo)
        row.addWidget(self.operator_combo)
        self.value_host = QHBoxLayout()
        self.value_host.setContentsMargins(0, 0, 0, 0)
        row.addLayout(self.value_host, 1)

    def set_tags(self, tags: list[str]) -> None:
        self.tags = tags
        self._tags_version += 1
        if self.node is not None:
            self.show_node(self.node)

    def show_node(self, node: ConditionNode) -> None:
        # Rows repaint often (a group's count arrived): the panel is rebuilt only when
        # what it shows changed, so an open drop-down or a cursor is left alone.
        shown = (node, node.field, node.operator, repr(node.value), self._tags_version)
        if shown == self._shown:
            return
        self._shown = shown
        self.node = node
        for combo in (self.field_combo, self.operator_combo):
            combo.blockSignals(True)
        self.field_combo.setCurrentIndex(self.field_combo.findData(node.field))
        self.operator_combo.clear()
        for op in operators_for(node.field):
            self.operator_combo.addItem(operator_label(node.field, op), op)
        self.operator_combo.setCurrentIndex(self.operator_combo.findData(node.operator))
        for combo in (self.field_combo, self.operator_combo):
            combo.blockSignals(False)
        # Tags arriving late rebuild only a tag editor (others would lose the focus).
        tags = self._tags_version if FIELDS[node.field] is FieldType.TAGS else 0
        key = (node.field, node.operator, tags)
        if key != self._editor_key:
            self._editor_key = key
            if self.value_editor is not None:
                # Hidden and deleted in place: reparented to None it would be a window
                # of its own, and showing one takes the keyboard focus from the app.
                self.value_host.removeWidget(self.value_editor)
                self.value_editor.hide()
                self.value_editor.deleteLater()
            self.value_editor = make_value_editor(node.field, node.operator, self.tags)
            if self.value_editor is not None:
                self.value_editor.setObjectName("value_editor")
                self.value_editor.edited.connect(self._value_edited)
                self.value_host.addWidget(self.value_editor)
                self._suggest(self.value_editor, node)
                self._tab_after_operator(self.value_editor)
        if self.value_editor is not None:
            self.value_editor.set_value(node.value)

    def _tab_after_operator(self, editor: QWidget) -> None:
        """Tab goes from the operator into the value (a new widget would come last)."""
        previous: QWidget = self.operator_combo
        for widget in _focusable(editor):
            QWidget.setTabOrder(previous, widget)
            previous = widget

    def _suggest(self, editor: ValueEditor, node: ConditionNode) -> None:
        field = suggested_field(node.field, node.operator)
        if self.suggester is None or field is None:
            return
        for box in editor.text_boxes():
            completer = self.suggester.attach(box, field)
            completer.activated.connect(editor.take_completion)

    def operators(self) -> list[str]:
        return [self.operator_combo.itemData(i) for i in range(self.operator_combo.count())]

    def _field_chosen(self, _index: int) -> None:
        if self.node is not None:
            new = retarget(self.node, self.field_combo.currentData())
            self.model.edit_condition(self.node, new.field, new.operator, new.value)

    def _operator_chosen(self, _index: int) -> None:
        if self.node is not None and self.operator_combo.currentData():
            new = retarget(self.node, self.node.field, self.operator_combo.currentData())
            self.model.edit_condition(self.node, new.field, new.operator, new.value)

    def _value_edited(self, value: object) -> None:
        if self.node is not None:
            merge = self.value_editor is not None and self.value_editor.merges
            self.model.edit_condition(self.node, self.node.field, self.node.operator, value,
                                      merge=merge)


def _focusable(widget: QWidget) -> list[QWidget]:
    """The controls inside `widget` that Tab reaches, in the order they were made (a spin
    box counts once, not as its inner text box)."""
    found: list[QWidget] = []
    for child in widget.children():
        if isinstance(child, QWidget):
            if child.focusPolicy() & Qt.FocusPolicy.TabFocus:
                found.append(child)
            else:
                found.extend(_focusable(child))
    return found


class NodeEditor(QStackedWidget):
    """Shows the group panel or the condition panel for the selected node."""

    def __init__(self, model: RuleTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("node_editor")
        self.group_panel = GroupPanel(model)
        self.condition_panel = ConditionPanel(model)
        self.empty = QLabel("Select a rule to edit it.")
        self.empty.setEnabled(False)
        for widget in (self.empty, self.group_panel, self.condition_panel):
            holder = QWidget()
            box = QVBoxLayout(holder)
            box.setContentsMargins(0, 4, 0, 4)
            box.addWidget(widget)
            self.addWidget(holder)

    def use_suggestions(self, engine: Engine, runner: TaskRunner) -> ValueSuggester:
        """Offer values from this database in the text boxes (cities, tags, domains)."""
        suggester = ValueSuggester(engine, runner, self)
        self.condition_panel.suggester = suggester
        return suggester

    @property
    def busy(self) -> bool:
        """Suggestions are being fetched."""
        suggester = self.condition_panel.suggester
        return suggester is not None and suggester.pending

    def show_node(self, node: Node | None) -> None:
        if isinstance(node, GroupNode):
            self.group_panel.show_node(node)
            self.setCurrentIndex(1)
        elif isinstance(node, ConditionNode):
            self.condition_panel.show_node(node)
            self.setCurrentIndex(2)
        else:
            self.setCurrentIndex(0)
