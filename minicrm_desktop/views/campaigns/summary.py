"""A campaign's summary in plain words on its page. The figures are counted from the log
in a task; a configured model may phrase them, but its text is shown only when it keeps
exactly the same numbers (services/ai/summary.py); otherwise the template's text is."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget
from sqlalchemy import Engine

from minicrm_desktop.services.ai import (
    AISettings,
    CampaignFigures,
    Summary,
    campaign_figures,
    summarise,
)
from minicrm_desktop.services.core.tasks import TaskContext, TaskHandle, TaskRunner
from minicrm_desktop.views.common.ai_request import AIRequest
from minicrm_desktop.views.common.widgets import value_label

#: Campaigns whose figures no longer change: only these are worth a model's phrasing.
FINAL = ("completed", "cancelled")


class CampaignSummaryPanel(QFrame):
    #: The summary shown (a Summary).
    summary_ready = Signal(object)

    def __init__(self, engine: Engine, runner: TaskRunner, ai: AISettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("campaign_summary")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._engine, self._ai = engine, ai
        self.request: AIRequest[Summary] = AIRequest(runner)
        self.summary: Summary | None = None
        self._key: tuple[Any, ...] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        top = QHBoxLayout()
        title = QLabel("Summary")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        top.addWidget(title)
        top.addStretch(1)
        self.engine_label = QLabel("")
        self.engine_label.setEnabled(False)
        top.addWidget(self.engine_label)
        layout.addLayout(top)
        self.text = value_label("…")
        self.text.setObjectName("campaign_summary_text")
        layout.addWidget(self.text)

    @property
    def handle(self) -> TaskHandle[Any] | None:
        """The summary being worked out, if any."""
        return self.request.handle

    def show_campaign(self, campaign_id: int, status: str,
                      figures_key: tuple[int, ...] = (), *,
                      figures: CampaignFigures | None = None) -> None:
        """Summarise the campaign (again only when its figures changed). Given `figures`
        (the page's own snapshot), the summary says exactly the numbers the page shows."""
        key = (campaign_id, status, *figures_key)
        if key == self._key and (self.summary is not None or self.request.running):
            return
        self.cancel()
        self._key = key
        config = self._ai.snapshot()
        if status not in FINAL:
            config = config.offline()  # figures still moving: the template says it
        ai, engine = self._ai, self._engine

        def work(ctx: TaskContext) -> Summary:
            read = figures if figures is not None else campaign_figures(engine, campaign_id)
            ctx.check_cancelled()
            return summarise(ai.resolve(config), read, ctx.cancelled)

        self.engine_label.setText("Summarising…")
        self.request.start(work, title="Summarising the campaign", quiet=True,
                           answered=self._done, failed=self._failed)

    def _done(self, summary: Summary) -> None:
        self.summary = summary
        self.text.setText(summary.text)
        self.engine_label.setText(summary.engine)
        self.setToolTip(summary.notice)
        self.summary_ready.emit(summary)

    def _failed(self, exc: BaseException) -> None:
        self._key = None
        self.engine_label.setText("")
        self.text.setText(f"No summary: {exc}")

    def cancel(self) -> None:
        self.request.cancel()
