"""The wizard's audience page: a saved segment, or a rule of its own."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QListWidget, QListWidgetItem, QRadioButton, QVBoxLayout
from sqlalchemy import Engine

from minicrm_desktop.services.campaigns import wizard as steps
from minicrm_desktop.services.campaigns.wizard import PageId
from minicrm_desktop.services.core.tasks import TaskHandle, TaskRunner
from minicrm_desktop.services.segments import SavedSegment, list_segments
from minicrm_desktop.views.campaigns.wizard.step import StepPage
from minicrm_desktop.views.common.widgets import muted_label
from minicrm_desktop.views.segments import LiveCount


class AudiencePage(StepPage):
    page_id = PageId.AUDIENCE
    segments_loaded = Signal(list)

    def __init__(self, engine: Engine, runner: TaskRunner) -> None:
        super().__init__()
        self._engine, self._runner = engine, runner
        self.setTitle("Audience")
        self.setSubTitle("Send to a saved segment, or build a rule for this campaign.")
        self.segments: list[SavedSegment] = []
        self.handle: TaskHandle[Any] | None = None
        layout = QVBoxLayout(self)
        self.segment_radio = QRadioButton("A saved segment")
        self.rule_radio = QRadioButton("A rule built for this campaign (next step)")
        self.segment_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.segment_radio)
        group.addButton(self.rule_radio)
        layout.addWidget(self.segment_radio)
        self.segment_list = QListWidget()
        self.segment_list.setObjectName("segment_choice")
        layout.addWidget(self.segment_list, 1)
        self.empty = muted_label("No saved segments yet: build a rule instead, or save one on "
                            "the Segments page.")
        self.empty.hide()
        layout.addWidget(self.empty)
        self.live = LiveCount(engine, runner)
        layout.addWidget(self.live)
        layout.addWidget(self.rule_radio)
        self.segment_radio.toggled.connect(self._changed)
        self.segment_list.currentRowChanged.connect(self._changed)

    def initializePage(self) -> None:
        if self.handle is None and not self.segments:
            engine = self._engine
            self.handle = self._runner.run(lambda _ctx: list_segments(engine),
                                           title="Loading segments", quiet=True,
                                           on_success=self._listed,
                                           on_error=lambda exc: self.empty.setText(str(exc)))
            self.handle.finished.connect(self._list_done)

    def _list_done(self) -> None:
        self.handle = None

    def _listed(self, segments: list[SavedSegment]) -> None:
        self.handle = None
        self._show(segments, None)
        self.segments_loaded.emit(segments)

    def add_segment(self, segment: SavedSegment) -> None:
        """A segment saved meanwhile (the rule page's "Save as segment…") is listed at
        once, in name order, without changing which one is chosen."""
        chosen = self.selected_segment()
        others = [s for s in self.segments if s.id != segment.id]
        ordered = sorted([*others, segment], key=lambda s: (s.name.lower(), s.id))
        self._show(ordered, None if chosen is None else chosen.id)

    def _show(self, segments: list[SavedSegment], chosen_id: int | None) -> None:
        self.segments = segments
        self.segment_list.clear()
        for segment in segments:
            item = QListWidgetItem(segment.name)
            item.setToolTip(segment.description)
            self.segment_list.addItem(item)
        self.empty.setVisible(not segments)
        rows = [i for i, s in enumerate(segments) if s.id == chosen_id]
        if segments:
            self.segment_list.setCurrentRow(rows[0] if rows else 0)

    def selected_segment(self) -> SavedSegment | None:
        row = self.segment_list.currentRow()
        return self.segments[row] if 0 <= row < len(self.segments) else None

    def _changed(self, *_args: object) -> None:
        use_segment = self.segment_radio.isChecked()
        self.segment_list.setEnabled(use_segment)
        segment = self.selected_segment() if use_segment else None
        self.live.setVisible(use_segment)
        if segment is not None:
            self.live.as_of = self.campaign_wizard().as_of if self.wizard() else None
            self.live.set_rule(segment.rule)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        wizard = self.wizard()
        return wizard is not None and steps.audience_problem(
            self.campaign_wizard().state()) is None
