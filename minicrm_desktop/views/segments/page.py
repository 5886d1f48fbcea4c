"""The Segments page: saved segments on the left; the rule builder, the reserved
"Describe in words" box and the live audience count on the right.

Every database call (listing, saving, renaming, the tags for the pickers) runs in the
TaskRunner; the page keeps the listed `SavedSegment`s (plain frozen values) so opening one
needs no query.

The page is one QWidget built from mixins, split by what they hold: saved_list (the
saved segments: list, switching, saving, rename/duplicate/delete, and the bulk actions
of bulk_actions), rule_json (import/export/copy) and page_keys (undo/redo and the other
shortcuts); here stay the layout of the builder, loading, editing the tree and the
problem line. What stands alone lives beside it (rule_model, rule_view, node_editor,
live_count, describe_panel, dialogs).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
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
from minicrm_desktop.models.rules import RuleGroup
from minicrm_desktop.models.tables import tags_table
from minicrm_desktop.services.access.actor import Actor, Permission, can
from minicrm_desktop.services.ai import AISettings
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.segments.saved import (
    SavedSegment,
)
from minicrm_desktop.views.common.resources import themed_icon
from minicrm_desktop.views.common.widgets import ERROR_COLOR, PageHeader
from minicrm_desktop.views.segments.describe_panel import DescribePanel
from minicrm_desktop.views.segments.live_count import LiveCount
from minicrm_desktop.views.segments.node_editor import NodeEditor
from minicrm_desktop.views.segments.page_keys import PageKeys
from minicrm_desktop.views.segments.root_bar import RootMatchBar
from minicrm_desktop.views.segments.rule_actions import RuleActions
from minicrm_desktop.views.segments.rule_checks import problem_message
from minicrm_desktop.views.segments.rule_json import RuleJson
from minicrm_desktop.views.segments.rule_model import RuleTreeModel
from minicrm_desktop.views.segments.rule_view import RuleTreeView
from minicrm_desktop.views.segments.saved_list import NEW_NAME, SavedSegmentList


def load_tag_names(engine: Engine) -> list[str]:
    """Every tag, by name (runs in a task)."""
    t = tags_table.c
    with engine.connect() as conn:
        return [str(n) for n in conn.execute(select(t.name).order_by(t.name_norm)).scalars()]


class SegmentsPage(SavedSegmentList, RuleJson, PageKeys, QWidget):
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

    # --- loading ----------------------------------------------------------------------------

    def start(self) -> None:
        """The database is ready: list the segments and the tags."""
        self._started = True
        self.refresh()
        self.load_tags()
        self._tree_changed()

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

    def _failed(self, exc: BaseException) -> None:
        self.show_problem(str(exc))

    def show_problem(self, text: str) -> None:
        self.message.setText(text)
        self.problem.emit(text)

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

    def fill_from_words(self, rule: RuleGroup) -> None:
        """Show a rule parsed from a sentence in the builder, undoable and unsaved."""
        self.model.replace_root(tree_from_rule(rule), "Fill rules from words")
        self._after_load()

    def shutdown(self) -> None:
        self.describe_group.shutdown()
        self.live.stop()
