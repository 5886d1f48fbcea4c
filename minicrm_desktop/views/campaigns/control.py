"""The app's campaign operations: one DeliveryEngine, its signals on the bus, crash
recovery at start, a timer that launches scheduled campaigns, and pause/resume/cancel.

QtCore only. Database reads and the launch (the audience freeze) run as tasks; the engine's
own control methods are called on the GUI thread, which owns it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from minicrm_desktop.services.access.actor import SYSTEM, AccessDenied, Actor, Permission, can
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskContext, TaskHandle, TaskRunner

# The launch, history and test-send services (and the rule models under them) load when
# first used, after the window is shown: this object is made at start-up.
if TYPE_CHECKING:
    from sqlalchemy import Engine

    from minicrm_desktop.services.campaigns.email import EmailDefaults
    from minicrm_desktop.services.campaigns.engine import DeliveryEngine
    from minicrm_desktop.services.campaigns.launch import CampaignDraft, LaunchSummary
    from minicrm_desktop.services.campaigns.testsend import TestMessage

log = logging.getLogger(__name__)
SCHEDULE_CHECK_MS = 30_000


def plain_email_defaults() -> EmailDefaults:
    from minicrm_desktop.services.campaigns.email import EmailDefaults

    return EmailDefaults()


class CampaignControl(QObject):
    #: (campaign id, LaunchSummary) — a campaign was frozen and handed to the engine.
    launched = Signal(int, object)
    #: A launch or control step failed (the message is fit for a user).
    failed = Signal(str)
    #: Start-up recovery and the first due check are done; carries the started ids.
    recovered = Signal(object)
    #: Something the user should know that is not an error (another installation delivers).
    notice = Signal(str)

    def __init__(self, engine: Engine, runner: TaskRunner, bus: EventBus,
                 delivery: DeliveryEngine | Callable[[], DeliveryEngine],
                 parent: QObject | None = None, *,
                 scheduler: Actor = SYSTEM) -> None:
        super().__init__(parent)
        self.engine = engine
        # Who launches due campaigns and resumes interrupted ones: the app itself (SYSTEM)
        # on an embedded database; on a shared one, the signed-in person if their role may
        # (a viewer's app leaves it to a marketer's).
        self.scheduler = scheduler
        self.runner = runner
        self.bus = bus
        # The engine (its modules, its writer thread) may be made when first needed: the
        # app passes a factory, so start-up neither imports nor starts it (startup.py).
        self._delivery: DeliveryEngine | None = None
        self._make_delivery = delivery if callable(delivery) else None
        if not callable(delivery):
            self._use(delivery)
        #: A new email campaign's sender and footer (the app reads them from Settings).
        self.email_defaults: Callable[[], EmailDefaults] = plain_email_defaults
        self.timer = QTimer(self)
        self.timer.setInterval(SCHEDULE_CHECK_MS)
        self.timer.timeout.connect(self.launch_due)
        self._launching: set[int] = set()
        self._closed = False

    @property
    def delivery(self) -> DeliveryEngine:
        if self._delivery is None:
            assert self._make_delivery is not None
            self._use(self._make_delivery())
            assert self._delivery is not None
        return self._delivery

    def _use(self, delivery: DeliveryEngine) -> None:
        self._delivery = delivery
        bus = self.bus
        delivery.progress.connect(bus.campaign_progress)
        delivery.finished.connect(bus.campaign_finished)
        delivery.finished.connect(lambda _cid, _status: bus.campaigns_changed.emit())
        delivery.status_changed.connect(lambda _cid, _status: bus.campaigns_changed.emit())
        delivery.waiting.connect(self._waiting)
        delivery.faulted.connect(
            lambda cid, reason: self.failed.emit(f"Campaign {cid} stopped: {reason}"))

    # -- start-up and schedule -------------------------------------------------------------

    def recover(self) -> None:
        """Resume campaigns left running (a crash or a quit mid-send) and launch those due;
        then check the schedule every SCHEDULE_CHECK_MS. The delivery engine is made here
        if it was not yet: once the database is open, after the window is shown."""
        self.delivery  # noqa: B018 - made now (a property)
        engine = self.engine

        scheduler = self.scheduler

        def task(_ctx: TaskContext) -> list[int]:
            from minicrm_desktop.models.campaign import CampaignStatus
            from minicrm_desktop.services.campaigns import history, stats

            if not can(scheduler, Permission.CONTROL_CAMPAIGNS):
                return []
            running = stats.campaigns_in_status(engine, CampaignStatus.RUNNING)
            for campaign_id in running:
                history.prepare_resume(engine, campaign_id, actor=scheduler)
            return running

        def done(running: list[int]) -> None:
            for campaign_id in running:
                self._start(campaign_id)
            if running and not self._closed:
                log.info("resuming campaigns %s", running)
                self.bus.campaigns_changed.emit()
            self.recovered.emit(running if not self._closed else [])
            self.launch_due()

        self.runner.run(task, title="Resuming campaigns", quiet=True, on_success=done,
                        on_error=self._on_error)
        self.timer.start()

    def launch_due(self) -> None:
        if self._closed:
            return
        engine = self.engine

        scheduler = self.scheduler

        def task(_ctx: TaskContext) -> list[tuple[int, LaunchSummary]]:
            from minicrm_desktop.models.base import utcnow
            from minicrm_desktop.services.campaigns import stats
            from minicrm_desktop.services.campaigns.launch import launch_campaign

            launched: list[tuple[int, LaunchSummary]] = []
            if not can(scheduler, Permission.LAUNCH_CAMPAIGNS):
                return launched
            for campaign_id in stats.due_campaigns(engine, utcnow()):
                # Authorised when it was scheduled; whoever may launch and has the app open
                # now launches it.
                launched.append(
                    (campaign_id, launch_campaign(engine, campaign_id, actor=scheduler)))
            return launched

        def done(launched: list[tuple[int, LaunchSummary]]) -> None:
            for campaign_id, summary in launched:
                self._after_launch(campaign_id, summary)

        self.runner.run(task, title="Starting scheduled campaigns", quiet=True,
                        on_success=done, on_error=self._on_error)

    # -- launching --------------------------------------------------------------------------

    def submit(self, draft: CampaignDraft,
               on_done: Callable[[int], None] | None = None, *, actor: Actor,
               replacing_draft: int | None = None) -> None:
        """Create the campaign (in place of the wizard draft `replacing_draft`, if given);
        unless it is scheduled, freeze its audience and send it."""
        engine = self.engine

        def task(_ctx: TaskContext) -> tuple[int, LaunchSummary | None]:
            from minicrm_desktop.services.campaigns.launch import create_campaign, launch_campaign

            campaign_id = create_campaign(engine, draft, actor=actor,
                                          replacing_draft=replacing_draft)
            if draft.scheduled_at is not None:
                return campaign_id, None
            return campaign_id, launch_campaign(engine, campaign_id, actor=actor)

        def done(result: tuple[int, LaunchSummary | None]) -> None:
            campaign_id, summary = result
            if summary is None:
                self.bus.campaigns_changed.emit()
            else:
                self._after_launch(campaign_id, summary)
            if on_done is not None:
                on_done(campaign_id)

        self.runner.run(task, title=f"Launching “{draft.name}”", on_success=done,
                        on_error=self._on_error)

    def _after_launch(self, campaign_id: int, summary: LaunchSummary) -> None:
        self._start(campaign_id)
        self.bus.campaigns_changed.emit()
        self.launched.emit(campaign_id, summary)

    def _start(self, campaign_id: int) -> None:
        if not self._closed:
            self.delivery.start(campaign_id)

    # -- control from the GUI ---------------------------------------------------------------

    def pause(self, campaign_id: int, *, actor: Actor) -> None:
        """Ask for a pause; `bus.campaigns_changed` follows once it took effect."""
        try:
            self.delivery.pause(campaign_id, actor=actor)
        except AccessDenied as exc:
            self.failed.emit(str(exc))

    def cancel(self, campaign_id: int, *, actor: Actor) -> None:
        """Ask to cancel; `bus.campaigns_changed` follows once it took effect."""
        try:
            self.delivery.cancel(campaign_id, actor=actor)
        except AccessDenied as exc:
            self.failed.emit(str(exc))

    def resume(self, campaign_id: int, *, actor: Actor) -> None:
        """Requeue what a killed run left claimed (in a task), then send again."""
        from minicrm_desktop.services.campaigns import history

        engine = self.engine

        def done(_result: None) -> None:
            self._start(campaign_id)
            self.bus.campaigns_changed.emit()

        self.runner.run(lambda _ctx: history.prepare_resume(engine, campaign_id, actor=actor),
                        title="Resuming campaign", on_success=done, on_error=self._on_error)

    def is_running(self, campaign_id: int) -> bool:
        return self.delivery.is_running(campaign_id)

    def running(self) -> list[int]:
        """The campaigns this window sends, by id (asked before quitting)."""
        return self.delivery.running()

    @property
    def owner_id(self) -> str:
        """How this app names itself as a campaign's delivering process."""
        return self.delivery.owner_id

    def send_test(self, draft: CampaignDraft, addresses: list[str], *,
                  actor: Actor) -> TaskHandle[list[TestMessage]]:
        """Send a campaign not created yet to a few addresses (or the actor's own) through
        this app's vendor, marked as a test (in a task; the handle says how it went)."""
        from minicrm_desktop.services.campaigns.testsend import send_test_draft

        engine, ledger = self.engine, self.delivery.ledger_path
        return self.runner.run(
            lambda _ctx: send_test_draft(engine, draft, addresses, actor=actor,
                                         ledger_path=ledger),
            title=f"Sending a test of “{draft.name}”", quiet=True, on_error=lambda _exc: None)

    def _waiting(self, campaign_id: int, owner: str) -> None:
        self.notice.emit(f"Campaign {campaign_id} is being delivered by {owner}; this app "
                         "takes over if that one stops.")
        self.bus.campaigns_changed.emit()

    def _on_error(self, exc: BaseException) -> None:
        from minicrm_desktop.errors import MiniCRMError
        from minicrm_desktop.services.core.tasks import TaskCancelled

        if isinstance(exc, TaskCancelled):
            return
        if isinstance(exc, MiniCRMError):
            self.failed.emit(str(exc))
            return
        import sys

        sys.excepthook(type(exc), exc, exc.__traceback__)

    def shutdown(self) -> None:
        """Stop the schedule and the engine (its workers finish their message, the writer
        records every outcome). Call before the task runner shuts down."""
        self._closed = True
        self.timer.stop()
        if self._delivery is not None:  # never made, nothing to stop
            self._delivery.shutdown()
