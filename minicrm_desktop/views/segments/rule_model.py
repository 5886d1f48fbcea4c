"""The rule builder's QAbstractItemModel over the editable rule tree.

Every change goes through the model's QUndoStack as a command (rule_commands.py), so undo
and redo replay exactly. Drag and drop carries the dragged node's path in a private MIME
type and becomes a move command. A condition still waiting for its value is *inactive*:
drawn greyed with a hint, left out of the counts, and no error (rule_checks.py).
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QUndoStack

from minicrm_desktop.models.rule_tree import (
    ConditionNode,
    GroupNode,
    Node,
    Path,
    node_at,
    path_of,
)
from minicrm_desktop.models.rules import RuleGroup
from minicrm_desktop.views.common.formatting import format_count
from minicrm_desktop.views.common.resources import icon
from minicrm_desktop.views.common.widgets import ERROR_COLOR
from minicrm_desktop.views.segments import rule_commands as cmd
from minicrm_desktop.views.segments.rule_checks import DraftCheck, check_draft
from minicrm_desktop.views.segments.rule_labels import condition_label, group_label

INACTIVE_COLOR = QColor("#8c959f")
MIME_TYPE = "application/x-minicrm-rule-node"
AnyIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
#: The muted text drawn at a row's right end: a group's count, an inactive row's hint.
HINT_ROLE = Qt.ItemDataRole.UserRole + 1
INACTIVE_HINT = "set a value"
#: Beside a group with no condition at all (a count would be everyone's: none is shown).
EMPTY_GROUP_HINT = "no conditions"


class RuleTreeModel(QAbstractItemModel):
    """One column: each row reads as words ("Total spend more than ₹5,000.00")."""

    #: The tree changed (any edit, undo, redo or load).
    tree_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.root = GroupNode()
        self.undo_stack = QUndoStack(self)
        self.check = DraftCheck()
        #: Each group's count (by node, so it follows moves), set by the count controller.
        self.counts: dict[GroupNode, int] = {}
        self._revalidate()

    @property
    def rule(self) -> RuleGroup | None:
        """The complete rule (saved, launched): None while anything is wrong or unset."""
        return self.check.rule

    @property
    def draft_rule(self) -> RuleGroup | None:
        """What is counted: the rule without its inactive conditions (None on a problem)."""
        return self.check.draft_rule

    @property
    def problems(self) -> dict[Path, str]:
        """The contract's problems by the node they concern (inactive rows are none)."""
        return self.check.problems

    def set_counts(self, counts: dict[GroupNode, int]) -> None:
        changed = set(counts) | set(self.counts)
        self.counts = counts
        for group in changed:
            if group.parent is not None and self._alive(group):
                index = self.index_of(group)
                self.dataChanged.emit(index, index, [HINT_ROLE])

    def _alive(self, node: Node) -> bool:
        while node.parent is not None:
            if node not in node.parent.children:
                return False
            node = node.parent
        return node is self.root

    # --- reading --------------------------------------------------------------------------

    def node(self, index: AnyIndex) -> Node:
        if not index.isValid():
            return self.root
        node = index.internalPointer()
        assert isinstance(node, ConditionNode | GroupNode)
        return node

    def index_of(self, node: Node) -> QModelIndex:
        if node.parent is None:
            return QModelIndex()
        return self.createIndex(node.parent.children.index(node), 0, node)

    def index(self, row: int, column: int, parent: AnyIndex = _ROOT) -> QModelIndex:
        group = self.node(parent)
        if column != 0 or not isinstance(group, GroupNode) or not 0 <= row < len(group.children):
            return QModelIndex()
        return self.createIndex(row, 0, group.children[row])

    def parent(self, index: AnyIndex = _ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        owner = self.node(index).parent
        return QModelIndex() if owner is None else self.index_of(owner)

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        node = self.node(parent)
        return len(node.children) if isinstance(node, GroupNode) else 0

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        return 1

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and section == 0:
            return "Rule"
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self.node(index)
        path = path_of(node)
        problem = self.problem_at(path)
        inactive = path in self.check.inactive
        if role == Qt.ItemDataRole.DisplayRole:
            if isinstance(node, GroupNode):
                return group_label(node)
            return condition_label(node)
        if role in (HINT_ROLE, Qt.ItemDataRole.AccessibleTextRole):
            hint = INACTIVE_HINT if inactive else None
            if isinstance(node, GroupNode):
                hint = self._group_hint(node, path)
            if role == HINT_ROLE:
                return hint
            # A screen reader reads the row with its hint, as it is seen.
            label = group_label(node) if isinstance(node, GroupNode) else condition_label(node)
            return f"{label}, {hint}" if hint else label
        if role == Qt.ItemDataRole.ToolTipRole:
            if problem:
                return self.check.messages.get(path)
            if inactive:
                return "Inactive until a value is set: left out of the counts"
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            if problem:
                return icon("warning", ERROR_COLOR)
            return icon("group" if isinstance(node, GroupNode) else "condition")
        if role == Qt.ItemDataRole.ForegroundRole:
            if problem:
                return ERROR_COLOR
            return INACTIVE_COLOR if inactive else None
        if role == Qt.ItemDataRole.FontRole and inactive:
            font = QFont()
            font.setItalic(True)
            return font
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsDropEnabled
        if not index.isValid():
            return base
        return base | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | \
            Qt.ItemFlag.ItemIsDragEnabled

    def _group_hint(self, group: GroupNode, path: Path) -> str | None:
        """Its count; none while nothing in it is active (it is not counted then)."""
        if not self._holds_active(group, path):
            return INACTIVE_HINT if _holds_condition(group) else EMPTY_GROUP_HINT
        count = self.counts.get(group)
        return None if count is None else format_count(count, "customer")

    def _holds_active(self, group: GroupNode, path: Path) -> bool:
        for row, child in enumerate(group.children):
            here = (*path, row)
            if isinstance(child, GroupNode):
                if self._holds_active(child, here):
                    return True
            elif here not in self.check.inactive:
                return True
        return False

    def problem_at(self, path: Path) -> str | None:
        return self.check.problems.get(path)

    def to_json(self) -> dict[str, Any]:
        return self.root.to_json(root=True)

    # --- drag and drop --------------------------------------------------------------------

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        data = QMimeData()
        paths = [list(path_of(self.node(i))) for i in indexes if i.isValid()]
        data.setData(MIME_TYPE, QByteArray(json.dumps(paths).encode()))
        return data

    def _drop_target(self, data: QMimeData, row: int,
                     parent: AnyIndex) -> tuple[Node, GroupNode, int] | None:
        if not data.hasFormat(MIME_TYPE):
            return None
        try:
            paths = json.loads(bytes(data.data(MIME_TYPE).data()).decode())
            node = node_at(self.root, tuple(paths[0]))
        except (ValueError, IndexError, TypeError):
            return None
        target = self.node(parent)
        if isinstance(target, ConditionNode):  # dropped on a condition: just after it
            assert target.parent is not None
            row = target.parent.children.index(target) + 1
            target = target.parent
        if row < 0:
            row = len(target.children)
        walk: GroupNode | None = target
        while walk is not None:  # never into itself or its own subtree
            if walk is node:
                return None
            walk = walk.parent
        return node, target, row

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                        parent: AnyIndex) -> bool:
        return action == Qt.DropAction.MoveAction and \
            self._drop_target(data, row, parent) is not None

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                     parent: AnyIndex) -> bool:
        if action != Qt.DropAction.MoveAction:
            return False
        found = self._drop_target(data, row, parent)
        if found is None:
            return False
        node, target, before = found
        # `before` counts the dragged node if it sits above in the same group.
        assert node.parent is not None
        if node.parent is target and target.children.index(node) < before:
            before -= 1
        self.move(node, target, before, "Move rule")
        return True

    # --- edits, as undoable commands ------------------------------------------------------

    def add(self, parent: GroupNode, node: Node, row: int | None = None) -> None:
        at = len(parent.children) if row is None else row
        text = "Add group" if isinstance(node, GroupNode) else "Add condition"
        self.undo_stack.push(cmd.Insert(self, parent, at, node, text))

    def remove(self, node: Node) -> None:
        if node.parent is None:
            return
        self.undo_stack.push(cmd.Remove(self, node))

    def move(self, node: Node, target: GroupNode, row: int, text: str = "Move rule") -> bool:
        """Move `node` so that it ends at `row` of `target`. False when nothing changes."""
        assert node.parent is not None
        if node.parent is target and target.children.index(node) == row:
            return False
        if not 0 <= row <= len(target.children) - (node.parent is target):
            return False
        self.undo_stack.push(cmd.Move(self, node, target, row, text))
        return True

    def edit_condition(self, node: ConditionNode, field: str, operator: str, value: Any,
                       *, merge: bool = False) -> None:
        new = (field, operator, value)
        if new == (node.field, node.operator, node.value):
            return
        self.undo_stack.push(cmd.EditCondition(self, node, new, merge))

    def edit_group(self, node: GroupNode, combinator: str, negated: bool) -> None:
        if (combinator, negated) == (node.combinator, node.negated):
            return
        text = "Toggle NOT" if negated != node.negated else f"Switch to {combinator.upper()}"
        self.undo_stack.push(cmd.EditGroup(self, node, combinator, negated, text))

    def replace_root(self, root: GroupNode, text: str = "Replace rule") -> None:
        self.undo_stack.push(cmd.ReplaceRoot(self, root, text))

    def load(self, root: GroupNode) -> None:
        """Start editing another tree: not undoable, and the stack starts clean."""
        self._set_root(root)
        self.undo_stack.clear()

    # --- the primitive changes (called by the commands only) ------------------------------

    def _insert(self, parent: GroupNode, row: int, node: Node) -> None:
        self.beginInsertRows(self.index_of(parent), row, row)
        parent.insert(row, node)
        self.endInsertRows()
        self._changed()

    def _take(self, node: Node) -> tuple[GroupNode, int]:
        parent = node.parent
        assert parent is not None
        row = parent.children.index(node)
        self.beginRemoveRows(self.index_of(parent), row, row)
        parent.take(row)
        self.endRemoveRows()
        self._changed()
        return parent, row

    def _move(self, node: Node, target: GroupNode, row: int) -> tuple[GroupNode, int]:
        source = node.parent
        assert source is not None
        src_row = source.children.index(node)
        # beginMoveRows counts the destination before the move.
        dest = row + 1 if source is target and row > src_row else row
        ok = self.beginMoveRows(self.index_of(source), src_row, src_row,
                                self.index_of(target), dest)
        assert ok, "invalid move"
        source.take(src_row)
        target.insert(row, node)
        self.endMoveRows()
        self._changed()
        return source, src_row

    def _set_condition(self, node: ConditionNode, values: tuple[str, str, Any]) -> None:
        node.field, node.operator, node.value = values
        index = self.index_of(node)
        self.dataChanged.emit(index, index)
        self._changed()

    def _set_group(self, node: GroupNode, combinator: str, negated: bool) -> None:
        node.combinator, node.negated = combinator, negated
        if node.parent is not None:
            index = self.index_of(node)
            self.dataChanged.emit(index, index)
        self._changed()

    def _set_root(self, root: GroupNode) -> None:
        self.beginResetModel()
        root.parent = None
        self.root = root
        self.endResetModel()
        self._changed()

    def _changed(self) -> None:
        before = set(self.problems) | self.check.inactive
        self._revalidate()
        changed = before | set(self.problems) | self.check.inactive
        # A group's hint follows whether anything in it is active.
        groups = {where[:n] for where in changed for n in range(1, len(where))}
        for path in changed | groups:
            try:
                node = node_at(self.root, path)
            except IndexError:
                continue
            if node.parent is not None:
                index = self.index_of(node)
                self.dataChanged.emit(index, index)
        self.tree_changed.emit()

    def _revalidate(self) -> None:
        self.check = check_draft(self.root)


def _holds_condition(group: GroupNode) -> bool:
    return any(_holds_condition(c) if isinstance(c, GroupNode) else True
               for c in group.children)
