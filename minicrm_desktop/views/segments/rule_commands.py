"""The rule builder's undo commands: each holds node objects (not paths, which shift as rows
move), so undo and redo replay exactly. Only RuleTreeModel pushes them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from minicrm_desktop.models.rule_tree import ConditionNode, GroupNode, Node

if TYPE_CHECKING:
    from minicrm_desktop.views.segments.rule_model import RuleTreeModel

#: Command ids for merging a run of edits to one condition into one undo step.
_EDIT_ID = 1


class Insert(QUndoCommand):
    def __init__(self, model: RuleTreeModel, parent: GroupNode, row: int, node: Node,
                 text: str) -> None:
        super().__init__(text)
        self.model, self.parent, self.row, self.node = model, parent, row, node

    def redo(self) -> None:
        self.model._insert(self.parent, self.row, self.node)

    def undo(self) -> None:
        self.model._take(self.node)


class Remove(QUndoCommand):
    def __init__(self, model: RuleTreeModel, node: Node) -> None:
        super().__init__("Delete rule")
        self.model, self.node = model, node
        self.parent: GroupNode | None = None
        self.row = 0

    def redo(self) -> None:
        self.parent, self.row = self.model._take(self.node)

    def undo(self) -> None:
        assert self.parent is not None
        self.model._insert(self.parent, self.row, self.node)


class Move(QUndoCommand):
    def __init__(self, model: RuleTreeModel, node: Node, target: GroupNode, row: int,
                 text: str) -> None:
        super().__init__(text)
        self.model, self.node, self.target, self.row = model, node, target, row
        self.source: GroupNode | None = None
        self.src_row = 0

    def redo(self) -> None:
        self.source, self.src_row = self.model._move(self.node, self.target, self.row)

    def undo(self) -> None:
        assert self.source is not None
        self.model._move(self.node, self.source, self.src_row)


class EditCondition(QUndoCommand):
    def __init__(self, model: RuleTreeModel, node: ConditionNode,
                 new: tuple[str, str, Any], merge: bool) -> None:
        super().__init__("Edit condition")
        self.model, self.node, self.new, self.merge = model, node, new, merge
        self.old = (node.field, node.operator, node.value)

    def id(self) -> int:
        return _EDIT_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        # Typing into one value merges into one step; field and operator changes don't.
        if not isinstance(other, EditCondition) or other.node is not self.node or \
                not (self.merge and other.merge) or other.new[:2] != self.new[:2]:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.model._set_condition(self.node, self.new)

    def undo(self) -> None:
        self.model._set_condition(self.node, self.old)


class EditGroup(QUndoCommand):
    def __init__(self, model: RuleTreeModel, node: GroupNode, combinator: str,
                 negated: bool, text: str) -> None:
        super().__init__(text)
        self.model, self.node = model, node
        self.new = (combinator, negated)
        self.old = (node.combinator, node.negated)

    def redo(self) -> None:
        self.model._set_group(self.node, *self.new)

    def undo(self) -> None:
        self.model._set_group(self.node, *self.old)


class ReplaceRoot(QUndoCommand):
    def __init__(self, model: RuleTreeModel, root: GroupNode, text: str) -> None:
        super().__init__(text)
        self.model, self.new, self.old = model, root, model.root

    def redo(self) -> None:
        self.model._set_root(self.new)

    def undo(self) -> None:
        self.model._set_root(self.old)
