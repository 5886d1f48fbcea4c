"""The wizard's rule page: the campaign's own rule, built in the same rule builder as the
Segments page — Match ALL/ANY, counts beside groups, suggestions, the context menu, undo and
redo, "Describe in words" — with a live count, and "Save as segment…" to keep the rule."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QToolButton, QVBoxLayout
from sqlalchemy import Engine

from minicrm_desktop.models.rule_tree import ConditionNode, GroupNode, tree_from_rule
from minicrm_desktop.models.rules import RuleGroup
from minicrm_desktop.services.ai import AISettings
from minicrm_desktop.services.campaigns.wizard import PageId
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.segments import (
    SavedSegment,
    SegmentError,
    SegmentNameTaken,
    create_segment,
)
from minicrm_desktop.views.campaigns.wizard.step import StepPage, error_label
from minicrm_desktop.views.common.widgets import MessageLabel
from minicrm_desktop.views.segments import (
    DescribePanel,
    LiveCount,
    NodeEditor,
    RootMatchBar,
    RuleActions,
    RuleTreeModel,
    RuleTreeView,
    SegmentNameDialog,
    problem_message,
    redo_keys,
)


class RulePage(StepPage):
    page_id = PageId.RULE
    #: The rule was saved as a segment (the stored SavedSegment).
    segment_saved = Signal(object)

    def __init__(self, engine: Engine, runner: TaskRunner, ai: AISettings) -> None:
        super().__init__()
        self._engine, self._runner = engine, runner
        self.setTitle("Build the audience")
        self.setSubTitle("Customers matching the rules below receive the message. An empty "
                         "rule means every customer.")
        self.model = RuleTreeModel(self)
        layout = QVBoxLayout(self)
        tools = QHBoxLayout()
        self.undo_button = QToolButton()
        self.undo_button.setText("Undo")
        self.redo_button = QToolButton()
        self.redo_button.setText("Redo")
        self.add_condition_button = QPushButton("Add condition")
        self.add_group_button = QPushButton("Add group")
        self.delete_button = QPushButton("Delete")
        self.save_segment_button = QPushButton("Save as segment…")
        self.save_segment_button.setObjectName("save_as_segment")
        self.save_segment_button.setToolTip("Keep this rule as a named segment, listed on "
                                            "the Segments page")
        for button in (self.undo_button, self.redo_button, self.add_condition_button,
                       self.add_group_button, self.delete_button):
            tools.addWidget(button)
        tools.addStretch(1)
        tools.addWidget(self.save_segment_button)
        layout.addLayout(tools)
        self.root_bar = RootMatchBar(self.model)
        layout.addWidget(self.root_bar)
        self.tree = RuleTreeView(self.model)
        self.tree.setAccessibleName("Rules")
        layout.addWidget(self.tree, 1)
        self.message = error_label()
        self.message.setObjectName("rule_message")
        layout.addWidget(self.message)
        self.saved_message = MessageLabel()
        self.saved_message.setObjectName("save_segment_message")
        layout.addWidget(self.saved_message)
        self.node_editor = NodeEditor(self.model)
        self.node_editor.use_suggestions(engine, runner)
        layout.addWidget(self.node_editor)
        self.describe_group = DescribePanel(engine, runner, ai)
        self.describe_group.rule_ready.connect(self.fill_from_words)
        layout.addWidget(self.describe_group)
        self.live = LiveCount(engine, runner)
        self.live.count_groups(self.model)
        layout.addWidget(self.live)

        self.rule_actions = RuleActions(self.tree, add_condition=self.add_condition,
                                        add_group=self.add_group,
                                        delete=self.delete_selected)
        self.rule_actions.add_shortcuts_to(self)
        self._undo_actions()
        self.add_condition_button.clicked.connect(self.add_condition)
        self.add_group_button.clicked.connect(self.add_group)
        self.delete_button.clicked.connect(self.delete_selected)
        self.save_segment_button.clicked.connect(self.save_as_segment)
        self.tree.delete_requested.connect(self.delete_selected)
        self.model.tree_changed.connect(self._tree_changed)
        self.tree.selectionModel().currentChanged.connect(self._show_current)
        self.model.modelReset.connect(self._show_current)
        self.model.dataChanged.connect(self._show_current)
        self.model.load(GroupNode())

    def _undo_actions(self) -> None:
        stack = self.model.undo_stack
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        self.redo_action = stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts(redo_keys())
        for button, action in ((self.undo_button, self.undo_action),
                               (self.redo_button, self.redo_action)):
            button.setEnabled(action.isEnabled())
            button.clicked.connect(action.trigger)
            action.enabledChanged.connect(button.setEnabled)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        stack.undoTextChanged.connect(lambda text: self.undo_button.setToolTip(
            f"Undo {text} (Ctrl+Z)".replace("  ", " ")))
        stack.redoTextChanged.connect(lambda text: self.redo_button.setToolTip(
            f"Redo {text} (Ctrl+Shift+Z)".replace("  ", " ")))

    def initializePage(self) -> None:
        self.live.as_of = self.campaign_wizard().as_of
        self.tree.expandAll()
        self.tree.setCurrentIndex(self.model.index(0, 0))
        self._tree_changed()

    def add_condition(self) -> None:
        group, row = self.tree.insertion_point()
        node = ConditionNode("city", "in", [])  # inactive until a city is picked
        self.model.add(group, node, row)
        self.tree.select_node(node)

    def add_group(self) -> None:
        group, row = self.tree.insertion_point()
        node = GroupNode("or")
        node.insert(0, ConditionNode("city", "in", []))
        self.model.add(group, node, row)
        self.tree.select_node(node)

    def delete_selected(self) -> None:
        node = self.tree.current_node()
        if node is not None and node.parent is not None:
            parent = node.parent
            self.model.remove(node)
            self.tree.select_node(parent)

    def fill_from_words(self, rule: RuleGroup) -> None:
        """A rule read from a sentence replaces the tree, undoably."""
        self.model.replace_root(tree_from_rule(rule), "Fill rules from words")
        self.tree.expandAll()
        self.tree.setCurrentIndex(self.model.index(0, 0))

    def _show_current(self, *_args: object) -> None:
        self.node_editor.show_node(self.tree.current_node())

    def _tree_changed(self) -> None:
        # Next stays disabled while a condition has no value: say why, under the tree.
        self.message.setText(self.why_incomplete())
        self.live.set_rule(self.model.draft_rule,
                           problem_message(self.model.root, self.model.check))
        self.saved_message.say("")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.model.rule is not None

    def why_incomplete(self) -> str:
        """What keeps Next disabled, in a marketer's words ("" when nothing does)."""
        return problem_message(self.model.root, self.model.check, inactive_too=True)

    # --- Save as segment ---------------------------------------------------------------------

    def save_as_segment(self) -> None:
        rule = self.model.rule
        if rule is None:
            self.saved_message.say("Cannot save: " + self.why_incomplete(), error=True)
            return
        name = SegmentNameDialog.ask(self, "Save as segment", self._suggested_name())
        if name is None:
            return
        wizard = self.campaign_wizard()
        engine, actor = self._engine, wizard.actor
        self.save_segment_button.setEnabled(False)

        def saved(segment: SavedSegment) -> None:
            self.save_segment_button.setEnabled(True)
            self.saved_message.say(f"Saved as the segment “{segment.name}”.")
            wizard.control.bus.segment_saved.emit(segment.id)
            self.segment_saved.emit(segment)

        def failed(exc: BaseException) -> None:
            self.save_segment_button.setEnabled(True)
            if isinstance(exc, SegmentNameTaken):
                text = f"A segment named “{name}” already exists: choose another name."
            elif isinstance(exc, SegmentError):
                text = f"Could not save the segment: {exc}."
            else:
                text = f"Could not save the segment: {exc}"
            self.saved_message.say(text, error=True)

        self._runner.run(lambda _ctx: create_segment(engine, name, rule, actor=actor),
                         title="Saving segment", on_success=saved, on_error=failed)

    def _suggested_name(self) -> str:
        wizard = self.wizard()
        campaign = str(wizard.field("name") or "").strip() if wizard is not None else ""
        return f"{campaign} audience" if campaign else "Campaign audience"

    def shutdown(self) -> None:
        self.describe_group.shutdown()
        self.live.stop()
