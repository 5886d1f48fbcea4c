"""The Segments page: saved segments on the left; the rule builder, the reserved
"Describe in words" box and the live audience count on the right.

Every database call (listing, saving, renaming, the tags for the pickers) runs in the
TaskRunner; the page keeps the listed `SavedSegment`s (plain frozen values) so opening one
needs no query.

Over 400 lines: one QWidget whose parts (list, builder, describe box, count) share the
page's undo stack, selection and tasks; what stands alone already lives beside it
(rule_model, rule_view, node_editor, live_count, describe_panel, dialogs). Splitting the
class further (the saved-segment list first) is open work.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine, select

from minicrm_desktop.models.rule_tree import (
    ConditionNode,
    GroupNode,
    Node,
    tree_from_rule,
)
from minicrm_desktop.models.rules import RuleError, RuleGroup, dump_rule, load_rule
from minicrm_desktop.models.tables import tags_table
from minicrm_desktop.services.access.actor import Actor, Permission, can
from minicrm_desktop.services.ai import AISettings
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.segments.saved import (
    SavedSegment,
    create_segment,
    delete_segment,
    duplicate_segment,
    list_segments,
    rename_segment,
    update_segment,
)
from minicrm_desktop.views.common.resources import themed_icon
from minicrm_desktop.views.common.widgets import ERROR_COLOR, PageHeader
from minicrm_desktop.views.segments.describe_panel import DescribePanel
from minicrm_desktop.views.segments.dialogs import (
    ConfirmDeleteDialog,
    OpenRuleJsonDialog,
    SaveRuleJsonDialog,
    SegmentNameDialog,
    Unsaved,
    UnsavedChangesDialog,
)
from minicrm_desktop.views.segments.live_count import LiveCount
from minicrm_desktop.views.segments.node_editor import NodeEditor
from minicrm_desktop.views.segments.root_bar import RootMatchBar
from minicrm_desktop.views.segments.rule_actions import RuleActions
from minicrm_desktop.views.segments.rule_checks import explain_error, problem_message
from minicrm_desktop.views.segments.rule_model import RuleTreeModel
from minicrm_desktop.views.segments.rule_view import RuleTreeView

NEW_NAME = "New segment"


def load_tag_names(engine: Engine) -> list[str]:
    """Every tag, by name (runs in a task)."""
    t = tags_table.c
    with engine.connect() as conn:
        return [str(n) for n in conn.execute(select(t.name).order_by(t.name_norm)).scalars()]


def redo_keys() -> list[QKeySequence]:
    """The platform's Redo keys plus Ctrl+Shift+Z and Ctrl+Y, each once: binding one
    sequence twice makes Qt refuse it as an "ambiguous shortcut overload"."""
    keys: list[QKeySequence] = []
    for key in [*QKeySequence.keyBindings(QKeySequence.StandardKey.Redo),
                QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]:
        if not key.isEmpty() and key not in keys:
            keys.append(key)
    return keys


class SegmentsPage(QWidget):
    #: The list of saved segments was (re)loaded.
    segments_loaded = Signal(list)
    #: A segment was saved, renamed or duplicated (the stored SavedSegment).
    segment_stored = Signal(object)
    #: A segment was deleted (its id).
    segment_deleted = Signal(int)
    #: The tags offered by the pickers arrived.
    tags_loaded = Signal(list)
    #: Something went wrong that the user should read (also shown on the message line).
    problem = Signal(str)

    def __init__(self, engine: Engine, runner: TaskRunner, bus: EventBus, *, actor: Actor,
                 ai: AISettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ai = ai
        self.actor = actor
        # A viewer may build rules and count audiences, but not store segments.
        self.may_edit = can(actor, Permission.EDIT_SEGMENTS)
        self._engine = engine
        self._runner = runner
        self._bus = bus
        self._started = False
        self.segments: dict[int, SavedSegment] = {}
        self.current_id: int | None = None
        self.saved_name = NEW_NAME
        self.model = RuleTreeModel(self)
        self.tags: list[str] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addWidget(PageHeader("Segments", "Groups of customers defined by rules."))

        splitter = QSplitter()
        splitter.addWidget(self._build_list())
        splitter.addWidget(self._build_editor())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([230, 800])
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)
        self._build_actions()
        if not self.may_edit:
            for widget in (self.save_button, self.duplicate_button, self.rename_button,
                           self.delete_segment_button):
                widget.setEnabled(False)
                widget.setToolTip("Your role can explore segments but not save them.")
            self.save_action.setEnabled(False)

        self.model.tree_changed.connect(self._tree_changed)
        # Bound methods, not lambdas: Qt drops them when the page is deleted.
        self.model.undo_stack.cleanChanged.connect(self._update_title)
        self.tree.selectionModel().currentChanged.connect(self._show_current)
        self.model.modelReset.connect(self._show_current)
        self.model.dataChanged.connect(self._show_current)
        self.tree.delete_requested.connect(self.delete_selected)
        bus.database_ready.connect(self.start)
        bus.segment_saved.connect(self._segment_saved)
        bus.customers_changed.connect(self._customers_changed)
        self._new_state()

    # --- layout ---------------------------------------------------------------------------

    @staticmethod
    def _tool_button(text: str) -> QToolButton:
        """A compact button (the page must fit beside the sidebar in a small window)."""
        button = QToolButton()
        button.setText(text)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        return button

    def _build_list(self) -> QWidget:
        left = QWidget()
        box = QVBoxLayout(left)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(QLabel("Saved segments"))
        self.segment_list = QListWidget()
        self.segment_list.setObjectName("segment_list")
        self.segment_list.setAccessibleName("Saved segments")
        self.segment_list.setMinimumWidth(140)
        self.segment_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.segment_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.segment_list.setStyleSheet("QListWidget#segment_list::item { padding: 3px 2px; }")
        self.segment_list.currentItemChanged.connect(self._list_changed)
        box.addWidget(self.segment_list, 1)
        self.new_button = self._tool_button("New")
        themed_icon(self.new_button, "new")
        self.new_button.setToolTip("New segment (Ctrl+N)")
        self.new_button.clicked.connect(self.new_segment)
        self.duplicate_button = self._tool_button("Duplicate")
        self.duplicate_button.clicked.connect(self.duplicate_selected)
        self.rename_button = self._tool_button("Rename…")
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_segment_button = self._tool_button("Delete…")
        self.delete_segment_button.clicked.connect(self.delete_selected_segment)
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        row1.addWidget(self.new_button)
        row1.addWidget(self.duplicate_button)
        row2.addWidget(self.rename_button)
        row2.addWidget(self.delete_segment_button)
        box.addLayout(row1)
        box.addLayout(row2)
        return left

    def _build_editor(self) -> QWidget:
        right = QWidget()
        box = QVBoxLayout(right)
        box.setContentsMargins(0, 0, 0, 0)
        self.editor_area = QFrame()
        self.editor_area.setObjectName("editor_area")
        self.editor_area.setFrameShape(QFrame.Shape.StyledPanel)
        editor = QVBoxLayout(self.editor_area)

        top = QHBoxLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("segment_name")
        self.name_edit.setPlaceholderText("Segment name")
        self.name_edit.setAccessibleName("Segment name")
        self.name_edit.textEdited.connect(self._update_title)
        top.addWidget(self.name_edit, 1)
        self.state_label = QLabel()
        self.state_label.setEnabled(False)
        top.addWidget(self.state_label)
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Save the segment (Ctrl+S)")
        self.save_button.clicked.connect(lambda: self.save())
        top.addWidget(self.save_button)
        editor.addLayout(top)

        tools = QHBoxLayout()
        self.undo_button = QToolButton()
        self.redo_button = QToolButton()
        self.add_condition_button = self._tool_button("Condition")
        themed_icon(self.add_condition_button, "new")
        self.add_condition_button.setToolTip("Add a condition to the selected group "
                                             "(Ctrl+Enter)")
        self.add_condition_button.setAccessibleName("Add condition")
        self.add_condition_button.clicked.connect(self.add_condition)
        self.add_group_button = self._tool_button("Group")
        themed_icon(self.add_group_button, "group")
        self.add_group_button.setToolTip("Add a group (Ctrl+Shift+Enter)")
        self.add_group_button.setAccessibleName("Add group")
        self.add_group_button.clicked.connect(self.add_group)
        self.delete_button = self._tool_button("Delete")
        self.delete_button.setToolTip("Delete the selected rule (Delete)")
        self.delete_button.clicked.connect(self.delete_selected)
        for button in (self.add_condition_button, self.add_group_button, self.delete_button):
            button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        for widget in (self.undo_button, self.redo_button, self.add_condition_button,
                       self.add_group_button, self.delete_button):
            tools.addWidget(widget)
        tools.addStretch(1)
        # JSON in and out share one menu button: the row must fit a narrow window.
        self.import_action = QAction("&Import rule JSON…", self)
        themed_icon(self.import_action, "import")
        self.import_action.triggered.connect(lambda: self.import_json())
        self.export_action = QAction("&Export rule JSON…", self)
        themed_icon(self.export_action, "export")
        self.export_action.triggered.connect(lambda: self.export_json())
        self.copy_action = QAction("&Copy rule JSON", self)
        self.copy_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.copy_action.triggered.connect(self.copy_json)
        self.addAction(self.copy_action)
        self.json_button = QToolButton()
        self.json_button.setText("JSON ▾")
        self.json_button.setStyleSheet("QToolButton::menu-indicator { image: none; }")
        self.json_button.setToolTip("Import, export or copy the rule as JSON "
                                    "(react-querybuilder format)")
        self.json_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.json_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        json_menu = QMenu(self.json_button)
        for action in (self.import_action, self.export_action, self.copy_action):
            json_menu.addAction(action)
        self.json_button.setMenu(json_menu)
        tools.addWidget(self.json_button)
        editor.addLayout(tools)

        self.root_bar = RootMatchBar(self.model)
        editor.addWidget(self.root_bar)
        self.tree = RuleTreeView(self.model)
        self.tree.setAccessibleName("Rules")
        self.tree.setToolTip("Drag rules to move them; Ctrl+Arrows move the selected rule")
        editor.addWidget(self.tree, 1)
        self.message = QLabel()
        self.message.setObjectName("rule_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        editor.addWidget(self.message)
        self.node_editor = NodeEditor(self.model)
        self.node_editor.use_suggestions(self._engine, self._runner)
        editor.addWidget(self.node_editor)
        self.rule_actions = RuleActions(self.tree, add_condition=self.add_condition,
                                        add_group=self.add_group, delete=self.delete_selected)
        box.addWidget(self.editor_area, 1)

        self.describe_group = DescribePanel(self._engine, self._runner, self._ai)
        self.describe_box = self.describe_group.text
        self.describe_group.rule_ready.connect(self.fill_from_words)
        box.addWidget(self.describe_group)

        self.live = LiveCount(self._engine, self._runner)
        self.live.count_groups(self.model)
        box.addWidget(self.live)
        return right

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

    # --- loading ----------------------------------------------------------------------------

    def start(self) -> None:
        """The database is ready: list the segments and the tags."""
        self._started = True
        self.refresh()
        self.load_tags()
        self._tree_changed()

    def refresh(self) -> None:
        if not self._started:
            return
        engine = self._engine
        self._runner.run(lambda _ctx: list_segments(engine), title="Loading segments",
                         quiet=True, on_success=self._listed, on_error=self._failed)

    def reload(self) -> None:
        """F5 or a change elsewhere: the list, the tags and the audience count again."""
        if self._started:
            self.refresh()
            self.load_tags()
            self._tree_changed()

    def load_tags(self) -> None:
        engine = self._engine
        self._runner.run(lambda _ctx: load_tag_names(engine), title="Loading tags", quiet=True,
                         on_success=self._tags, on_error=self._failed)

    def _tags(self, names: list[str]) -> None:
        self.tags = names
        self.node_editor.condition_panel.set_tags(names)
        self.tags_loaded.emit(names)

    def _listed(self, segments: list[SavedSegment]) -> None:
        self.segments = {s.id: s for s in segments}
        scroll = self.segment_list.verticalScrollBar().value()
        self.segment_list.blockSignals(True)
        self.segment_list.clear()
        for segment in segments:
            item = QListWidgetItem(segment.name, self.segment_list)
            item.setData(Qt.ItemDataRole.UserRole, segment.id)
            item.setToolTip(segment.name + (f"\n{segment.description}"
                                             if segment.description else ""))
        self._select_in_list(self.current_id)
        self.segment_list.blockSignals(False)
        self.segment_list.verticalScrollBar().setValue(scroll)
        self.segments_loaded.emit(segments)

    def _select_in_list(self, segment_id: int | None) -> None:
        """Show the open segment as the list's current row (none for a new segment)."""
        lst = self.segment_list
        row = next((r for r in range(lst.count())
                    if lst.item(r).data(Qt.ItemDataRole.UserRole) == segment_id), -1)
        lst.blockSignals(True)
        # The view's own setCurrentIndex, even for "no row": it marks the current row as
        # chosen. Otherwise the list's next focus-in (the window is activated again when
        # the unsaved-changes question closes) makes the first row current by itself,
        # which asked the question again, for ever.
        lst.setCurrentIndex(lst.model().index(row, 0) if row >= 0 else QModelIndex())
        lst.blockSignals(False)

    def _failed(self, exc: BaseException) -> None:
        self.show_problem(str(exc))

    def show_problem(self, text: str) -> None:
        self.message.setText(text)
        self.problem.emit(text)

    # --- switching segments ------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        # Unsaved edits matter only to someone who could save them.
        return self.may_edit and (not self.model.undo_stack.isClean()
                                  or self.name_edit.text() != self.saved_name)

    def _leave_then(self, then: Callable[[], None]) -> None:
        """Run `then` once unsaved changes are saved or discarded (the user decides)."""
        if not self.dirty:
            then()
            return
        answer = UnsavedChangesDialog.ask(self, self.name_edit.text() or NEW_NAME)
        if answer is Unsaved.DISCARD:
            then()
        elif answer is Unsaved.SAVE:
            self.save(after=then)
        else:
            self._select_in_list(self.current_id)

    def may_close(self, then: Callable[[], object]) -> bool:
        """Whether the window may close now; with "save", `then` runs once saved."""
        if not self.dirty:
            return True
        answer = UnsavedChangesDialog.ask(self, self.name_edit.text() or NEW_NAME)
        if answer is Unsaved.SAVE:
            self.save(after=then)
        return answer is Unsaved.DISCARD

    def _list_changed(self, item: QListWidgetItem | None, _previous: object) -> None:
        if item is None:
            return
        segment_id = item.data(Qt.ItemDataRole.UserRole)
        if segment_id == self.current_id or not self.dirty:
            if segment_id != self.current_id:
                self.open_segment(segment_id)
            return
        # Ask once the list has finished handling the click or key: a modal question
        # inside its selection change leaves the list half-way through that change, which
        # re-selects the clicked row (and asks again) after Cancel.
        self._select_in_list(self.current_id)
        QTimer.singleShot(0, self, lambda: self._leave_then(
            lambda: self.open_segment(segment_id)))

    def open_segment(self, segment_id: int) -> None:
        segment = self.segments.get(segment_id)
        if segment is None:  # deleted meanwhile (by another window or the CLI)
            self._select_in_list(self.current_id)
            return
        self.describe_group.clear_message()
        self.current_id = segment.id
        self.saved_name = segment.name
        self.name_edit.setText(segment.name)
        self.model.load(tree_from_rule(segment.rule))
        self._select_in_list(segment.id)
        self._after_load()

    def new_segment(self) -> None:
        """Ctrl+N: an empty rule (every customer) to build on."""
        self._leave_then(self._new_state)

    def _new_state(self) -> None:
        self.describe_group.clear_message()
        self.current_id = None
        self.saved_name = NEW_NAME
        self.name_edit.setText(NEW_NAME)
        self.model.load(GroupNode())
        self._select_in_list(None)
        self._after_load()
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def _after_load(self) -> None:
        self.message.setText("")
        self.tree.expandAll()
        self.tree.setCurrentIndex(self.model.index(0, 0))
        self._show_current()
        self._update_title()

    # --- editing the tree ----------------------------------------------------------------------

    def add_condition(self) -> ConditionNode:
        group, row = self.tree.insertion_point()
        node = ConditionNode("city", "in", [])  # inactive until a city is picked
        self.model.add(group, node, row)
        self.tree.select_node(node)
        return node

    def add_group(self) -> GroupNode:
        group, row = self.tree.insertion_point()
        node = GroupNode("or")
        node.insert(0, ConditionNode("city", "in", []))
        self.model.add(group, node, row)
        self.tree.select_node(node)
        return node

    def delete_selected(self) -> None:
        node = self.tree.current_node()
        if node is None or node.parent is None:
            return
        parent = node.parent
        row = parent.children.index(node)
        self.model.remove(node)
        after: Node = parent.children[min(row, len(parent.children) - 1)] \
            if parent.children else parent
        self.tree.select_node(after)

    def _customers_changed(self) -> None:
        if self._started:  # an import may bring new tags, and changes every count
            self.load_tags()
            self._tree_changed()

    def _segment_saved(self, _segment_id: int) -> None:
        self.refresh()

    def _show_current(self, *_args: object) -> None:
        self.node_editor.show_node(self.tree.current_node())

    def _tree_changed(self) -> None:
        # Inactive conditions are no problem here (their rows say "set a value").
        text = problem_message(self.model.root, self.model.check)
        self.message.setText(text)
        if self._started:  # no counting before the database is open
            self.live.set_rule(self.model.draft_rule, text)
        self._update_title()

    def problem_message(self) -> str:
        """Why the rule cannot be saved, in a marketer's words, naming the row."""
        return problem_message(self.model.root, self.model.check, inactive_too=True)

    def _update_title(self, *_args: object) -> None:
        self.state_label.setText("• unsaved changes" if self.dirty else "")

    # --- saving and the list's commands ---------------------------------------------------------

    def save(self, after: Callable[[], object] | None = None) -> None:
        rule = self.model.rule
        if rule is None:
            self.show_problem("Cannot save: " + self.problem_message())
            return
        name = self.name_edit.text().strip()
        if not name:
            asked = SegmentNameDialog.ask(self, "Save segment", NEW_NAME)
            if asked is None:
                return
            name = asked
            self.name_edit.setText(name)
        engine, segment_id, actor = self._engine, self.current_id, self.actor
        index = self.model.undo_stack.index()

        def store(_ctx: object) -> SavedSegment:
            if segment_id is None:
                return create_segment(engine, name, rule, actor=actor)
            return update_segment(engine, segment_id, name=name, rule=rule, actor=actor)

        def stored(segment: SavedSegment) -> None:
            self.current_id = segment.id
            self.saved_name = segment.name
            self.segments[segment.id] = segment
            if self.model.undo_stack.index() == index:
                self.model.undo_stack.setClean()
            self._update_title()
            self.segment_stored.emit(segment)
            self._bus.segment_saved.emit(segment.id)
            if after is not None:
                after()

        self._runner.run(store, title="Saving segment", on_success=stored,
                         on_error=self._failed)

    def _selected_id(self) -> int | None:
        item = self.segment_list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def rename_selected(self) -> None:
        segment_id = self._selected_id()
        if segment_id is None:
            return
        name = SegmentNameDialog.ask(self, "Rename segment", self.segments[segment_id].name)
        if name is None:
            return
        engine, actor = self._engine, self.actor

        def renamed(segment: SavedSegment) -> None:
            self.segments[segment.id] = segment
            if segment.id == self.current_id:
                self.saved_name = segment.name
                self.name_edit.setText(segment.name)
                self._update_title()
            self.segment_stored.emit(segment)
            self._bus.segment_saved.emit(segment.id)

        self._runner.run(lambda _ctx: rename_segment(engine, segment_id, name, actor=actor),
                         title="Renaming segment", on_success=renamed, on_error=self._failed)

    def duplicate_selected(self) -> None:
        segment_id = self._selected_id()
        if segment_id is None:
            return
        engine, actor = self._engine, self.actor

        def duplicated(segment: SavedSegment) -> None:
            self.segments[segment.id] = segment
            self.segment_stored.emit(segment)
            self._bus.segment_saved.emit(segment.id)
            self._leave_then(lambda: self.open_segment(segment.id))

        self._runner.run(lambda _ctx: duplicate_segment(engine, segment_id, actor=actor),
                         title="Duplicating segment", on_success=duplicated,
                         on_error=self._failed)

    def delete_selected_segment(self) -> None:
        segment_id = self._selected_id()
        if segment_id is None or not ConfirmDeleteDialog.ask(
                self, self.segments[segment_id].name):
            return
        engine, actor = self._engine, self.actor

        def deleted(_none: object) -> None:
            self.segments.pop(segment_id, None)
            if segment_id == self.current_id:
                self._new_state()
            self.segment_deleted.emit(segment_id)
            self.refresh()

        self._runner.run(lambda _ctx: delete_segment(engine, segment_id, actor=actor),
                         title="Deleting segment", on_success=deleted, on_error=self._failed)

    # --- JSON in and out ---------------------------------------------------------------------

    def rule_json_text(self) -> str:
        if self.model.rule is not None:
            return dump_rule(self.model.rule, indent=2)
        # A rule still being edited (refused as it stands) is copied as it is, same shape.
        return json.dumps(self.model.to_json(), indent=2, ensure_ascii=False)

    def import_json(self, path: Path | None = None) -> bool:
        """Replace the rule with one from a JSON file (undoable). False when refused."""
        path = path or OpenRuleJsonDialog.ask(self)
        if path is None:
            return False
        try:
            text = path.read_text(encoding="utf-8")
            root = tree_from_rule(load_rule(text))
        except (OSError, UnicodeDecodeError) as exc:
            self.show_problem(f"Could not import {path.name}: {exc}")
            return False
        except RuleError as exc:
            self.show_problem(f"Could not import {path.name}: {explain_error(exc, text)}")
            return False
        self.model.replace_root(root, "Import rule")
        self._after_load()
        return True

    def export_json(self, path: Path | None = None) -> Path | None:
        if self.model.rule is None:
            self.show_problem("Cannot export: " + self.problem_message())
            return None
        stem = re.sub(r"[^\w.-]+", "-", self.name_edit.text().strip()).strip("-") or "segment"
        path = path or SaveRuleJsonDialog.ask(self, f"{stem}.json")
        if path is None:
            return None
        try:
            path.write_text(self.rule_json_text() + "\n", encoding="utf-8")
        except OSError as exc:
            self.show_problem(f"Could not write {path}: {exc}")
            return None
        return path

    def copy_json(self) -> None:
        QGuiApplication.clipboard().setText(self.rule_json_text())

    def fill_from_words(self, rule: RuleGroup) -> None:
        """Show a rule parsed from a sentence in the builder, undoable and unsaved."""
        self.model.replace_root(tree_from_rule(rule), "Fill rules from words")
        self._after_load()

    def shutdown(self) -> None:
        self.describe_group.shutdown()
        self.live.stop()
