"""The Campaigns list's progress of running campaigns: another installation may be sending
them, and its progress reaches this window only through the database, so the list reads
their counters every POLL_MS (off the GUI thread) while it is shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget
from sqlalchemy import Engine

from minicrm_desktop.services.campaigns.events import CampaignCounts
from minicrm_desktop.services.campaigns.store import delivery_state
from minicrm_desktop.services.core.tasks import TaskHandle, TaskRunner
from minicrm_desktop.views.campaigns.history_model import CampaignHistoryModel

POLL_MS = 2000


class RunningPoll(QObject):
    def __init__(self, page: QWidget, model: CampaignHistoryModel, engine: Engine,
                 runner: TaskRunner, show: Callable[[CampaignCounts], None]) -> None:
        super().__init__(page)
        self.page, self.model, self.engine, self.runner = page, model, engine, runner
        self.show = show
        self.handle: TaskHandle[Any] | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    def poll(self) -> None:
        """Read the counters of the running campaigns listed."""
        if self.handle is not None or not self.page.isVisible() or self.model.loading:
            return
        running = [row.id for row in (self.model.campaign(r)
                                      for r in range(self.model.rowCount()))
                   if row is not None and row.status == "running"]
        if not running:
            return
        engine = self.engine

        def task(_ctx: object) -> list[CampaignCounts]:
            states = (delivery_state(engine, cid) for cid in running)
            return [state.counts for state in states if state is not None]

        self.handle = self.runner.run(task, title="Reading campaign progress", quiet=True,
                                      on_success=self._polled, on_error=self._failed)

    def _polled(self, snapshot: list[CampaignCounts]) -> None:
        self.handle = None
        changed = False
        for counts in snapshot:
            row = self.model.row_of(counts.campaign_id)
            campaign = None if row is None else self.model.campaign(row)
            changed |= campaign is not None and campaign.status != counts.status
            self.show(counts)
        if changed:
            self.model.refresh()  # finished or paused elsewhere: read it whole

    def _failed(self, _exc: BaseException) -> None:
        self.handle = None  # the next tick tries again

    def stop(self) -> None:
        self.timer.stop()
        if self.handle is not None:
            self.handle.cancel()
