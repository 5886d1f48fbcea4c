"""The live audience count under the rule builder, and its sample of matching customers.

After each edit a short timer restarts; when it fires, the count runs as a TaskRunner task
(never on the GUI thread). Each request gets a generation number and only the newest one's
result is shown: a count that finishes after the rule changed again is dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.models.rules import RuleGroup
from minicrm_desktop.services.core.tasks import TaskHandle, TaskRunner
from minicrm_desktop.services.segments import AudienceMember, audience_sample, count_audience
from minicrm_desktop.views.common.formatting import format_count, format_date, format_money
from minicrm_desktop.views.segments.group_count import GroupCounts
from minicrm_desktop.views.segments.rule_model import RuleTreeModel

DEBOUNCE_MS = 300
SAMPLE_SIZE = 10


class LiveCount(QWidget):
    #: A count was requested (the label now says "Counting…"); carries its generation.
    counting = Signal(int)
    #: The newest count arrived.
    count_ready = Signal(int)
    #: The count failed (message fit for the user).
    count_failed = Signal(str)
    #: The sample of matching customers arrived (a list of AudienceMember).
    sample_ready = Signal(list)

    def __init__(self, engine: Engine, runner: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._runner = runner
        self.rule: RuleGroup | None = None
        #: The clock for relative dates; None means now (tests and screenshots pin it).
        self.as_of: datetime | None = None
        self.generation = 0
        self.count: int | None = None
        self.sample_dialog: SampleDialog | None = None
        self._handle: TaskHandle[Any] | None = None
        #: Counts beside each group of a rule tree, when this count is a builder's.
        self.groups: GroupCounts | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.count_now)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        caption = QLabel("Audience:")
        row.addWidget(caption)
        self.label = QLabel("—")
        self.label.setObjectName("live_count")
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.label.setFont(font)
        row.addWidget(self.label, 1)
        self.sample_button = QPushButton("Show sample")
        self.sample_button.setObjectName("show_sample")
        self.sample_button.setToolTip(f"The first {SAMPLE_SIZE} matching customers")
        self.sample_button.setEnabled(False)
        self.sample_button.clicked.connect(self.show_sample)
        row.addWidget(self.sample_button)

    def count_groups(self, model: RuleTreeModel) -> GroupCounts:
        """Count each group of `model`'s tree too, whenever this counts the total."""
        self.groups = GroupCounts(model, self, self._engine, self._runner)
        return self.groups

    @property
    def pending(self) -> bool:
        """A count (the total or the groups') is waiting for its timer or running."""
        return self._timer.isActive() or self._handle is not None or (
            self.groups is not None and self.groups.pending)

    def set_rule(self, rule: RuleGroup | None, problem: str = "") -> None:
        """The rule changed: count it after a pause, or show why it cannot be counted."""
        self.rule = rule
        self.generation += 1  # whatever is running now is stale
        self.count = None
        if rule is None:
            self._timer.stop()
            self._show(problem or "Fix the rule to see its audience", problem=True)
            self.label.setToolTip(problem)
            self.sample_button.setEnabled(False)
            return
        self.label.setToolTip("")
        self._timer.start()

    def _show(self, text: str, *, problem: bool = False) -> None:
        """A count in large bold type; a problem in the error colour, plain."""
        font = self.label.font()
        font.setBold(not problem)
        font.setPointSizeF(self.font().pointSizeF() * (1.0 if problem else 1.15))
        self.label.setFont(font)
        self.label.setStyleSheet("color: #cf222e;" if problem else "")
        self.label.setText(text)

    def stop(self) -> None:
        """No more counting for this rule (page closing): stop the timer, drop results."""
        self._timer.stop()
        self.generation += 1
        if self._handle is not None:
            self._handle.cancel()
        if self.groups is not None:
            self.groups.stop()

    def count_now(self) -> None:
        self._timer.stop()
        rule = self.rule
        if rule is None:
            return
        self.generation += 1
        generation, engine, as_of = self.generation, self._engine, self.as_of
        if self._handle is not None:
            self._handle.cancel()  # not started yet: skip it; running: its result is stale
        self._show("Counting…")
        self.sample_button.setEnabled(False)
        self.counting.emit(generation)
        handle = self._runner.run(
            lambda _ctx: count_audience(engine, rule, as_of=as_of),
            title="Counting audience", quiet=True,
            on_success=lambda n: self._counted(generation, n),
            on_error=lambda exc: self._failed(generation, exc))
        self._handle = handle
        handle.finished.connect(lambda: self._finished(handle))

    def _finished(self, handle: TaskHandle[Any]) -> None:
        if self._handle is handle:
            self._handle = None

    def _counted(self, generation: int, n: int) -> None:
        if generation != self.generation:
            return
        self.count = n
        self._show(format_count(n, "customer"))
        self.sample_button.setEnabled(n > 0)
        self.count_ready.emit(n)

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self.generation:
            return
        message = f"Could not count: {exc}"
        self._show(message, problem=True)
        self.count_failed.emit(message)

    def show_sample(self) -> None:
        rule, engine, as_of = self.rule, self._engine, self.as_of
        if rule is None:
            return
        generation = self.generation
        self.sample_button.setEnabled(False)

        def shown(members: list[AudienceMember]) -> None:
            self.sample_button.setEnabled(self.count is not None and self.count > 0)
            if generation != self.generation:
                return
            if self.sample_dialog is None:
                self.sample_dialog = SampleDialog(self)
            self.sample_dialog.show_members(members)
            self.sample_dialog.show()
            self.sample_ready.emit(members)

        self._runner.run(
            lambda _ctx: audience_sample(engine, rule, as_of=as_of, size=SAMPLE_SIZE),
            title="Fetching sample", quiet=True, on_success=shown,
            on_error=lambda exc: self._failed(generation, exc))


class SampleDialog(QDialog):
    COLUMNS = ("Name", "Email", "City", "Total spend", "Orders", "Last order")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sample of the audience")
        self.resize(760, 360)
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("sample_table")
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def show_members(self, members: list[AudienceMember]) -> None:
        self.table.setRowCount(len(members))
        for row, m in enumerate(members):
            cells = (m.name or "", m.email, m.city or "", format_money(m.total_spend_minor),
                     str(m.order_count), format_date(m.last_order_at))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (3, 4):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)

    def emails(self) -> list[str]:
        items = (self.table.item(r, 1) for r in range(self.table.rowCount()))
        return [item.text() for item in items if item is not None]
