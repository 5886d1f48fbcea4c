"""The wizard's rule page: the campaign's own rule, built in the rule tree with a live count."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout
from sqlalchemy import Engine

from minicrm_desktop.models.rule_tree import ConditionNode, GroupNode
from minicrm_desktop.services.campaigns.wizard import PageId
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.campaigns.wizard.step import StepPage, error_label
from minicrm_desktop.views.segments import LiveCount, NodeEditor, RuleTreeModel, RuleTreeView


class RulePage(StepPage):
    page_id = PageId.RULE

    def __init__(self, engine: Engine, runner: TaskRunner) -> None:
        super().__init__()
        self.setTitle("Build the audience")
        self.setSubTitle("Customers matching every condition (or any, per group) receive "
                         "the message. An empty rule means every customer.")
        self.model = RuleTreeModel(self)
        layout = QVBoxLayout(self)
        tools = QHBoxLayout()
        self.add_condition_button = QPushButton("Add condition")
        self.add_group_button = QPushButton("Add group")
        self.delete_button = QPushButton("Delete")
        for button in (self.add_condition_button, self.add_group_button, self.delete_button):
            tools.addWidget(button)
        tools.addStretch(1)
        layout.addLayout(tools)
        self.tree = RuleTreeView(self.model)
        layout.addWidget(self.tree, 1)
        self.message = error_label()
        layout.addWidget(self.message)
        self.node_editor = NodeEditor(self.model)
        layout.addWidget(self.node_editor)
        self.live = LiveCount(engine, runner)
        layout.addWidget(self.live)
        self.add_condition_button.clicked.connect(self.add_condition)
        self.add_group_button.clicked.connect(self.add_group)
        self.delete_button.clicked.connect(self.delete_selected)
        self.tree.delete_requested.connect(self.delete_selected)
        self.model.tree_changed.connect(self._tree_changed)
        self.tree.selectionModel().currentChanged.connect(self._show_current)
        self.model.modelReset.connect(self._show_current)
        self.model.dataChanged.connect(self._show_current)
        self.model.load(GroupNode())

    def initializePage(self) -> None:
        self.live.as_of = self.campaign_wizard().as_of
        self.tree.expandAll()
        self.tree.setCurrentIndex(self.model.index(0, 0))
        self._tree_changed()

    def add_condition(self) -> None:
        group, row = self.tree.insertion_point()
        node = ConditionNode("city", "in", [])
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

    def _show_current(self, *_args: object) -> None:
        self.node_editor.show_node(self.tree.current_node())

    def _tree_changed(self) -> None:
        rule = self.model.rule
        if rule is None:
            problems = self.model.problems
            text = next(iter(problems.values()), "The rule is not complete.")
            self.message.setText(text)
            self.live.set_rule(None, text)
        else:
            self.message.setText("")
            self.live.set_rule(rule)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.model.rule is not None
