"""The rule tree's context menu and its actions: add condition, add group, wrap in a group,
negate (NOT), duplicate, delete. Each is one undo step, each is reachable by keyboard:
the menu key or Shift+F10 opens the menu on the selected row, and the tree's own
shortcuts (Ctrl+G wrap, Ctrl+Shift+N negate, Ctrl+D duplicate) work while it has the focus.

Adding and deleting are the host's (the Segments page and the wizard choose what a new
rule is and where the selection goes); the host passes them in.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from minicrm_desktop.models.rule_tree import GroupNode, Node
from minicrm_desktop.views.segments.rule_model import RuleTreeModel
from minicrm_desktop.views.segments.rule_view import RuleTreeView

ADD_CONDITION_KEYS = "Ctrl+Return"
ADD_GROUP_KEYS = "Ctrl+Shift+Return"


class RuleActions:
    def __init__(self, tree: RuleTreeView, *, add_condition: Callable[[], object],
                 add_group: Callable[[], object], delete: Callable[[], object]) -> None:
        self.tree = tree
        self.model: RuleTreeModel = tree.rule_model
        #: The menu last opened (tests and screenshots look at it).
        self.menu: QMenu | None = None
        self.add_condition = self._action("Add &condition", ADD_CONDITION_KEYS, add_condition)
        self.add_group = self._action("Add &group", ADD_GROUP_KEYS, add_group)
        self.wrap = self._action("&Wrap in a group", "Ctrl+G", self.wrap_selected)
        self.negate = self._action("&Negate (NOT)", "Ctrl+Shift+N", self.negate_selected)
        self.duplicate = self._action("D&uplicate", "Ctrl+D", self.duplicate_selected)
        self.delete = self._action("&Delete", "Delete", delete)
        # Active on the tree itself; adding and deleting have their keys elsewhere (the
        # host's Ctrl+Enter, the tree's Delete): here they only show in the menu.
        for action in self.actions():  # scoped to the tree: no window-wide Delete
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        for action in (self.wrap, self.negate, self.duplicate):
            tree.addAction(action)
        tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        tree.customContextMenuRequested.connect(self.open_menu)
        tree.menu_key_pressed.connect(self._menu_key)
        tree.selectionModel().currentChanged.connect(self._update)
        self.model.tree_changed.connect(self._update)
        self._update()

    def _action(self, text: str, keys: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self.tree)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def actions(self) -> list[QAction]:
        return [self.add_condition, self.add_group, self.wrap, self.negate, self.duplicate,
                self.delete]

    def add_shortcuts_to(self, host: QWidget) -> None:
        """Make Ctrl+Enter and Ctrl+Shift+Enter add rules anywhere in `host` (the wizard;
        the Segments page has its own)."""
        for action in (self.add_condition, self.add_group):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            host.addAction(action)

    def _update(self, *_args: object) -> None:
        node = self.tree.current_node()
        has = node is not None and node.parent is not None
        for action in (self.wrap, self.negate, self.duplicate, self.delete):
            action.setEnabled(has)
        negated = node.negated if isinstance(node, GroupNode) else \
            node is not None and self._lone_in_not(node)
        if negated:
            self.negate.setText("Remove &NOT")
        else:
            self.negate.setText("&Negate (NOT)")

    # --- the menu ---------------------------------------------------------------------------

    def _menu_key(self) -> None:
        index = self.tree.currentIndex()
        rect = self.tree.visualRect(index)
        at = rect.bottomLeft() + QPoint(24, 0) if index.isValid() else QPoint(8, 8)
        self.open_menu(at)

    def open_menu(self, pos: QPoint) -> None:
        """The menu at `pos` (viewport coordinates), for the row there (right click) or the
        selected one (keyboard)."""
        index = self.tree.indexAt(pos)
        if index.isValid() and index != self.tree.currentIndex():
            self.tree.setCurrentIndex(index)
        menu = self.build_menu()
        menu.exec(self.tree.viewport().mapToGlobal(pos))
        menu.deleteLater()
        # The keys go on to the tree (Ctrl+Z next), even where closing a popup leaves no
        # window active (the offscreen platform does so once the popup's hide is handled).
        QTimer.singleShot(0, self.tree, self._refocus)

    def build_menu(self) -> QMenu:
        """The menu for the selected row (shown by open_menu; screenshots pop it up)."""
        self._update()
        menu = QMenu(self.tree)
        menu.setObjectName("rule_menu")
        for action in self.actions()[:2]:
            menu.addAction(action)
        menu.addSeparator()
        for action in self.actions()[2:5]:
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.delete)
        self.menu = menu
        return menu

    def _refocus(self) -> None:
        if not self.tree.window().isActiveWindow():
            self.tree.window().activateWindow()
        self.tree.setFocus(Qt.FocusReason.PopupFocusReason)

    # --- the edits --------------------------------------------------------------------------

    def _selected(self) -> Node | None:
        node = self.tree.current_node()
        return node if node is not None and node.parent is not None else None

    def wrap_selected(self) -> GroupNode | None:
        node = self._selected()
        if node is None:
            return None
        group = self._wrap(node, negated=False, text="Wrap in a group")
        self.tree.select_node(group)
        return group

    def _wrap(self, node: Node, *, negated: bool, text: str) -> GroupNode:
        parent = node.parent
        assert parent is not None
        row = parent.children.index(node)
        group = GroupNode("and", negated)
        stack = self.model.undo_stack
        stack.beginMacro(text)
        self.model.add(parent, group, row)
        self.model.move(node, group, 0, text)
        stack.endMacro()
        return group

    @staticmethod
    def _lone_in_not(node: Node) -> bool:
        """Inside a NOT group of its own (what negating a condition makes)."""
        parent = node.parent
        return parent is not None and parent.parent is not None and parent.negated \
            and parent.children == [node]

    def negate_selected(self) -> None:
        """A group's NOT is switched; a condition is wrapped in a NOT group of its own, or
        taken out of it again."""
        node = self._selected()
        if isinstance(node, GroupNode):
            self.model.edit_group(node, node.combinator, not node.negated)
            self.tree.select_node(node)
        elif node is not None and self._lone_in_not(node):
            group = node.parent
            assert group is not None
            assert group.parent is not None
            outer = group.parent
            row = outer.children.index(group)
            stack = self.model.undo_stack
            stack.beginMacro("Remove NOT")
            self.model.move(node, outer, row, "Remove NOT")
            self.model.remove(group)
            stack.endMacro()
            self.tree.select_node(node)
        elif node is not None:
            self._wrap(node, negated=True, text="Negate")
            self.tree.select_node(node)
        self._update()

    def duplicate_selected(self) -> Node | None:
        node = self._selected()
        if node is None or node.parent is None:
            return None
        copy = node.copy()
        stack = self.model.undo_stack
        stack.beginMacro("Duplicate")  # one step, named for what the user did
        self.model.add(node.parent, copy, node.parent.children.index(node) + 1)
        stack.endMacro()
        self.tree.select_node(copy)
        return copy
