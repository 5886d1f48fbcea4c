"""The rule tree's QTreeView: drag and drop that moves through the model's undo stack,
keyboard moves (Ctrl+Up/Down within a group, Ctrl+Left/Right to outdent/indent), the menu
key and Shift+F10 for the context menu, and each row's hint (a group's count) drawn at
its right end."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QDrag, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QTreeView, QWidget

from minicrm_desktop.models.rule_tree import ConditionNode, GroupNode, Node
from minicrm_desktop.views.segments.rule_delegate import RuleRowDelegate
from minicrm_desktop.views.segments.rule_model import RuleTreeModel


class RuleTreeView(QTreeView):
    delete_requested = Signal()
    #: The menu key or Shift+F10: open the context menu on the selected row.
    menu_key_pressed = Signal()

    def __init__(self, model: RuleTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rule_tree")
        self.setModel(model)
        self.rule_model = model
        self.setHeaderHidden(True)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setExpandsOnDoubleClick(False)
        self.setIndentation(22)
        self.setStyleSheet("QTreeView#rule_tree::item { padding: 3px 0; }")
        self.setItemDelegate(RuleRowDelegate(self))
        model.rowsInserted.connect(lambda *_: self.expandAll())
        model.rowsMoved.connect(lambda *_: self.expandAll())
        model.modelReset.connect(self.expandAll)

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        # The drop already moved the node (an undoable command): unlike the default, do not
        # remove the dragged rows afterwards.
        indexes = self.selectedIndexes()
        if not indexes:
            return
        drag = QDrag(self)
        drag.setMimeData(self.rule_model.mimeData(indexes))
        drag.exec(Qt.DropAction.MoveAction)

    def current_node(self) -> Node | None:
        index = self.currentIndex()
        return self.rule_model.node(index) if index.isValid() else None

    def insertion_point(self) -> tuple[GroupNode, int | None]:
        """Where an added rule goes: into the selected group, or after the selected
        condition in its group, or at the end of the root."""
        node = self.current_node()
        if isinstance(node, GroupNode):
            return node, None
        if isinstance(node, ConditionNode) and node.parent is not None:
            return node.parent, node.parent.children.index(node) + 1
        return self.rule_model.root, None

    def select_node(self, node: Node) -> None:
        index = self.rule_model.index_of(node)
        if index.isValid():
            self.setCurrentIndex(index)
            self.scrollTo(index)
        else:
            self.setCurrentIndex(QModelIndex())

    # --- keyboard moves ------------------------------------------------------------------

    def move_current(self, key: Qt.Key) -> bool:
        node = self.current_node()
        if node is None or node.parent is None:
            return False
        parent = node.parent
        row = parent.children.index(node)
        model = self.rule_model
        moved = False
        if key == Qt.Key.Key_Up and row > 0:
            moved = model.move(node, parent, row - 1, "Move up")
        elif key == Qt.Key.Key_Down and row < len(parent.children) - 1:
            moved = model.move(node, parent, row + 1, "Move down")
        elif key == Qt.Key.Key_Left and parent.parent is not None:
            grand = parent.parent
            moved = model.move(node, grand, grand.children.index(parent) + 1, "Outdent")
        elif key == Qt.Key.Key_Right and row > 0 and \
                isinstance(parent.children[row - 1], GroupNode):
            target = parent.children[row - 1]
            assert isinstance(target, GroupNode)
            moved = model.move(node, target, len(target.children), "Indent")
        if moved:
            self.select_node(node)
        return moved

    def keyPressEvent(self, event: QKeyEvent) -> None:
        keys = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right)
        if event.modifiers() == Qt.KeyboardModifier.ControlModifier and event.key() in keys:
            self.move_current(Qt.Key(event.key()))
            event.accept()
            return
        if event.key() == Qt.Key.Key_Menu or (
                event.key() == Qt.Key.Key_F10
                and event.modifiers() == Qt.KeyboardModifier.ShiftModifier):
            self.menu_key_pressed.emit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Delete and event.modifiers() == \
                Qt.KeyboardModifier.NoModifier:
            self.delete_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)
