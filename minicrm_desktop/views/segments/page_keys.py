"""The Segments page's keyboard actions: undo and redo (each key bound once), save, add a
condition or a group. A mixin of `SegmentsPage`, split out of page.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolButton, QWidget

from minicrm_desktop.views.segments.rule_model import RuleTreeModel

if TYPE_CHECKING:
    _Base = QWidget
else:
    _Base = object


def redo_keys() -> list[QKeySequence]:
    """The platform's Redo keys plus Ctrl+Shift+Z and Ctrl+Y, each once: binding one
    sequence twice makes Qt refuse it as an "ambiguous shortcut overload"."""
    keys: list[QKeySequence] = []
    for key in [*QKeySequence.keyBindings(QKeySequence.StandardKey.Redo),
                QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]:
        if not key.isEmpty() and key not in keys:
            keys.append(key)
    return keys


class PageKeys(_Base):
    # The page's parts these actions use.
    model: RuleTreeModel
    undo_button: QToolButton
    redo_button: QToolButton

    if TYPE_CHECKING:  # the page's own methods
        def save(self, after: Callable[[], object] | None = None) -> None: ...
        def add_condition(self) -> object: ...
        def add_group(self) -> object: ...

    def _build_actions(self) -> None:
        stack = self.model.undo_stack
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        self.redo_action = stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts(redo_keys())
        # Fixed captions (the actions' texts grow with the command's name, which would
        # widen the toolbar); the tooltip says what would be undone.
        for button, action, caption in ((self.undo_button, self.undo_action, "Undo"),
                                        (self.redo_button, self.redo_action, "Redo")):
            button.setText(caption)
            button.setEnabled(action.isEnabled())
            button.clicked.connect(action.trigger)
            action.enabledChanged.connect(button.setEnabled)
        stack.undoTextChanged.connect(
            lambda text: self.undo_button.setToolTip(f"Undo {text} (Ctrl+Z)".replace("  ", " ")))
        stack.redoTextChanged.connect(
            lambda text: self.redo_button.setToolTip(
                f"Redo {text} (Ctrl+Shift+Z)".replace("  ", " ")))
        self.save_action = self._shortcut("Save segment", "Ctrl+S", lambda: self.save())
        self._shortcut("Add condition", "Ctrl+Return", self.add_condition)
        self._shortcut("Add group", "Ctrl+Shift+Return", self.add_group)
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)

    def _shortcut(self, text: str, keys: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action
