"""Actions on everyone in a saved segment, from the Segments page: "Tag everyone…" and
"Unsubscribe everyone…".

Each counts who it would change off the GUI thread, asks with that count (Escape
answers no), runs as a task with progress (one short transaction per chunk, in
`services.segments.bulk_actions`), says the result, and tells the bus that customers
changed (the Customers page reads them again). Only roles that may edit customers see
them; the service checks the role again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.services.access.actor import Actor, Permission, can
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskContext, TaskHandle, TaskRunner
from minicrm_desktop.services.segments.bulk_actions import (
    BulkActionError,
    BulkPreview,
    BulkResult,
    clean_tag,
    preview_tag,
    preview_unsubscribe,
    tag_segment,
    unsubscribe_segment,
)
from minicrm_desktop.services.segments.saved import SavedSegment
from minicrm_desktop.views.common.widgets import ERROR_COLOR


class TagEveryoneDialog(QDialog):
    """Which tag to give everyone in the segment (existing tags are suggested)."""

    def __init__(self, parent: QWidget, segment: str, tags: list[str]) -> None:
        super().__init__(parent)
        self.setObjectName("tag_everyone_dialog")
        self.setWindowTitle("Tag everyone")
        layout = QVBoxLayout(self)
        intro = QLabel(f"Give every customer in “{segment}” this tag:")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.tag = QLineEdit()
        self.tag.setObjectName("bulk_tag")
        self.tag.setAccessibleName("Tag")
        self.tag.setPlaceholderText("e.g. diwali-2026")
        completer = QCompleter(tags, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.tag.setCompleter(completer)
        layout.addWidget(self.tag)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Count customers…")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(380, self.sizeHint().height())
        self.tag.setFocus()

    def accept(self) -> None:
        try:
            clean_tag(self.tag.text())
        except BulkActionError as exc:
            self.error.setText(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
            return
        super().accept()

    @classmethod
    def ask(cls, parent: QWidget, segment: str, tags: list[str]) -> str | None:
        dialog = cls(parent, segment, tags)
        try:
            return dialog.tag.text().strip() if dialog.exec() else None
        finally:
            dialog.deleteLater()


def bulk_question(parent: QWidget, title: str, question: str, yes: str) -> QMessageBox:
    """The question with the count; "Cancel" is the default and Escape answers it."""
    box = QMessageBox(QMessageBox.Icon.Question, title, question,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                      parent)
    box.button(QMessageBox.StandardButton.Yes).setText(yes)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    return box


def confirm_bulk(parent: QWidget, title: str, question: str, yes: str) -> bool:
    box = bulk_question(parent, title, question, yes)
    try:
        return box.exec() == QMessageBox.StandardButton.Yes
    finally:
        box.deleteLater()


def tag_question(preview: BulkPreview, segment: str, tag: str) -> tuple[str, str]:
    """The question before tagging, and its Yes button's text."""
    have = preview.audience - preview.affected
    already = f" ({have:,} have it already.)" if have else ""
    return (f"Tag {preview.affected:,} of the {preview.audience:,} customers in "
            f"“{segment}” with “{tag}”?{already}", f"Tag {preview.affected:,} customers")


class SegmentBulkActions(QObject):
    """The two actions, a menu button offering them, and the line saying how they went."""

    def __init__(self, page: QWidget, engine: Engine, runner: TaskRunner, bus: EventBus, *,
                 actor: Actor, selected: Callable[[], SavedSegment | None],
                 tags: Callable[[], list[str]],
                 as_of: Callable[[], datetime | None]) -> None:
        super().__init__(page)
        self._page, self._engine, self._runner, self._bus = page, engine, runner, bus
        self._actor = actor
        self._selected, self._tags, self._as_of = selected, tags, as_of
        self.allowed = can(actor, Permission.EDIT_CUSTOMERS)
        self.handle: TaskHandle[Any] | None = None
        self.tag_action = QAction("Tag everyone…", page)
        self.tag_action.triggered.connect(self.tag_everyone)
        self.unsubscribe_action = QAction("Unsubscribe everyone…", page)
        self.unsubscribe_action.triggered.connect(self.unsubscribe_everyone)
        self.button = QToolButton()
        self.button.setObjectName("bulk_actions")
        self.button.setText("Bulk actions")
        self.button.setAccessibleName("Actions on everyone in the segment")
        self.button.setToolTip("Tag or unsubscribe every customer in the selected segment")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        menu = QMenu(self.button)
        menu.addAction(self.tag_action)
        menu.addAction(self.unsubscribe_action)
        self.button.setMenu(menu)
        self.result = QLabel("")
        self.result.setObjectName("bulk_result")
        self.result.setWordWrap(True)
        # A viewer is not offered them at all. (Only hidden, never shown here: shown before
        # the page takes them in, each would open as a window of its own for a moment and
        # take the activation from the main window, which builds this page when first shown.)
        if not self.allowed:
            self.button.hide()
            self.result.hide()
        self.refresh_enabled()

    @property
    def actions(self) -> tuple[QAction, QAction]:
        return self.tag_action, self.unsubscribe_action

    def refresh_enabled(self, *_args: object) -> None:
        enabled = self.allowed and self._selected() is not None and self.handle is None
        for action in self.actions:
            action.setEnabled(enabled)
            action.setVisible(self.allowed)
        self.button.setEnabled(enabled)

    def _say(self, text: str, error: bool = False) -> None:
        self.result.setStyleSheet(f"color: {ERROR_COLOR.name()};" if error else "")
        self.result.setText(text)

    def tag_everyone(self) -> None:
        segment = self._selected()
        if segment is None or not self.allowed or self.handle is not None:
            return
        tag = TagEveryoneDialog.ask(self._page, segment.name, self._tags())
        if tag is None:
            return
        engine, as_of = self._engine, self._as_of()

        def ask(preview: BulkPreview) -> bool:
            if preview.affected == 0:
                self._say(f"Nobody to tag: all {preview.audience:,} customers in "
                          f"“{segment.name}” have “{tag}”.")
                return False
            return confirm_bulk(self._page, "Confirm tagging",
                                *tag_question(preview, segment.name, tag))

        def work(ctx: TaskContext) -> BulkResult:
            return tag_segment(engine, segment.rule, tag, actor=self._actor,
                               segment=segment.name, as_of=as_of,
                               progress=lambda done, total: ctx.progress(done / max(total, 1)),
                               should_cancel=ctx.cancelled)

        self._run(lambda: preview_tag(engine, segment.rule, tag, as_of=as_of), ask, work,
                  f"Tagging “{segment.name}”", f"with “{tag}”", "Tagged")

    def unsubscribe_everyone(self) -> None:
        segment = self._selected()
        if segment is None or not self.allowed or self.handle is not None:
            return
        engine, as_of = self._engine, self._as_of()

        def ask(preview: BulkPreview) -> bool:
            if preview.affected == 0:
                self._say(f"Nobody to unsubscribe: none of the {preview.audience:,} "
                          f"customers in “{segment.name}” is subscribed.")
                return False
            return confirm_bulk(
                self._page, "Confirm unsubscribing",
                f"Unsubscribe {preview.affected:,} of the {preview.audience:,} customers in "
                f"“{segment.name}”? They will no longer receive campaigns; only they can "
                "subscribe again.",
                f"Unsubscribe {preview.affected:,} customers")

        def work(ctx: TaskContext) -> BulkResult:
            return unsubscribe_segment(
                engine, segment.rule, actor=self._actor, segment=segment.name, as_of=as_of,
                progress=lambda done, total: ctx.progress(done / max(total, 1)),
                should_cancel=ctx.cancelled)

        self._run(lambda: preview_unsubscribe(engine, segment.rule, as_of=as_of), ask, work,
                  f"Unsubscribing “{segment.name}”", "", "Unsubscribed")

    def _run(self, count: Callable[[], BulkPreview], ask: Callable[[BulkPreview], bool],
             work: Callable[[TaskContext], BulkResult], title: str, what: str,
             verb: str) -> None:
        """Count (a task), ask, then act (a task); the actions wait meanwhile."""
        self._say("Counting customers…")

        def counted(preview: BulkPreview) -> None:
            self.handle = None
            if not ask(preview):
                self.refresh_enabled()
                if self.result.text() == "Counting customers…":
                    self._say("")
                return
            self._say(f"{title}…")
            self.handle = self._runner.run(work, title=title, on_success=done,
                                           on_error=failed)
            self.refresh_enabled()

        def done(result: BulkResult) -> None:
            self.handle = None
            self.refresh_enabled()
            extra = f"; {result.skipped:,} skipped (they hold too many tags)" \
                if result.skipped else ""
            stop = " Stopped part-way." if result.cancelled else ""
            self._say(f"{verb} {result.changed:,} customers {what}".rstrip() + f"{extra}.{stop}")
            self._bus.customers_changed.emit()

        def failed(exc: BaseException) -> None:
            self.handle = None
            self.refresh_enabled()
            self._say(str(exc), error=True)
            self._bus.customers_changed.emit()  # part of it may be done

        self.handle = self._runner.run(lambda _ctx: count(), title="Counting customers",
                                       quiet=True, on_success=counted, on_error=failed)
        self.refresh_enabled()
