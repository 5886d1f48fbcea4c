"""The Segments page's saved segments: the list, switching between segments (asking about
unsaved changes), and the list's commands (rename, duplicate, delete).

A mixin of `SegmentsPage` (split out of page.py by what it holds): it uses the page's
editor, model and tasks, declared below for the type checker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, QTimer, SignalInstance
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.models.rule_tree import GroupNode, tree_from_rule
from minicrm_desktop.services.access.actor import Actor
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
from minicrm_desktop.views.segments.bulk_actions import SegmentBulkActions
from minicrm_desktop.views.segments.describe_panel import DescribePanel
from minicrm_desktop.views.segments.dialogs import (
    ConfirmDeleteDialog,
    SegmentNameDialog,
    Unsaved,
    UnsavedChangesDialog,
)
from minicrm_desktop.views.segments.live_count import LiveCount
from minicrm_desktop.views.segments.rule_model import RuleTreeModel
from minicrm_desktop.views.segments.rule_view import RuleTreeView

NEW_NAME = "New segment"


if TYPE_CHECKING:
    _Base = QWidget
else:
    _Base = object


class SavedSegmentList(_Base):
    # The page's parts this mixin uses (set by SegmentsPage.__init__ and its builders).
    _engine: Engine
    _runner: TaskRunner
    _bus: EventBus
    _started: bool
    actor: Actor
    may_edit: bool
    segments: dict[int, SavedSegment]
    current_id: int | None
    saved_name: str
    model: RuleTreeModel
    name_edit: QLineEdit
    tree: RuleTreeView
    message: QLabel
    live: LiveCount
    describe_group: DescribePanel
    tags: list[str]
    segments_loaded: SignalInstance
    segment_stored: SignalInstance
    segment_deleted: SignalInstance

    if TYPE_CHECKING:  # the page's own methods
        def _failed(self, exc: BaseException) -> None: ...
        def _show_current(self, *_args: object) -> None: ...
        def _update_title(self, *_args: object) -> None: ...
        def problem_message(self) -> str: ...
        def show_problem(self, text: str) -> None: ...
        @staticmethod
        def _tool_button(text: str) -> QToolButton: ...

    # --- the list -----------------------------------------------------------------------------

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
        self.segment_list.setItemDelegate(_ViewportWideDelegate(self.segment_list))
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
        self.bulk = SegmentBulkActions(self, self._engine, self._runner, self._bus,
                                       actor=self.actor, selected=self._selected_segment,
                                       tags=lambda: self.tags, as_of=lambda: self.live.as_of)
        self.bulk.button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        box.addWidget(self.bulk.button)
        box.addWidget(self.bulk.result)
        # Also on the list's context menu (right click, or the Menu key).
        self.segment_list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.segment_list.addActions(list(self.bulk.actions))
        self.segment_list.currentItemChanged.connect(self.bulk.refresh_enabled)
        return left

    def refresh(self) -> None:
        if not self._started:
            return
        engine = self._engine
        self._runner.run(lambda _ctx: list_segments(engine), title="Loading segments",
                         quiet=True, on_success=self._listed, on_error=self._failed)
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
        self.bulk.refresh_enabled()
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
        self.bulk.refresh_enabled()

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

    # --- saving and the list's commands --------------------------------------------------------

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

    def _selected_segment(self) -> SavedSegment | None:
        segment_id = self._selected_id()
        return None if segment_id is None else self.segments.get(segment_id)

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

    def _segment_saved(self, _segment_id: int) -> None:
        self.refresh()


class _ViewportWideDelegate(QStyledItemDelegate):
    """Items as wide as the list, not as their text: a long name is then elided in the
    middle (its tooltip has it whole) instead of cut at the list's edge."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex  # noqa: N802
                 ) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(1, hint.height())
