"""The delivery engine: workers on a QThreadPool send, one writer records, the bus listens.

Workers claim chunks of queued deliveries, render each message and hand it to the vendor;
every outcome is published as a `DeliveryEvent` on the engine's `events` signal (the
pub-sub bus). A single writer, living on its own thread, consumes those events and applies
them in batches — every FLUSH_EVERY events or FLUSH_MS milliseconds, one transaction each —
and then publishes the campaign's counters on `progress`. Views subscribe to the same
signals for live progress. QtCore only: the CLI runs this on a QCoreApplication.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import (
    QMetaObject,
    QObject,
    QRunnable,
    Qt,
    QThread,
    QThreadPool,
    QTimer,
    Signal,
    Slot,
)
from sqlalchemy import Engine

from ...models.base import utcnow
from ...models.campaign import CampaignStatus, DeliveryStatus
from ..retry import with_retries
from . import store
from .events import CampaignCounts, DeliveryEvent
from .templates import Template, parse_template
from .vendor import Message, PendingOutcome, Vendor

log = logging.getLogger(__name__)

FLUSH_EVERY = 500
FLUSH_MS = 250
CHUNK = 500
PUBLISH_EVERY = 250
PUBLISH_SECONDS = 0.1
DEFAULT_WORKERS = 8
RETRY_BASE_SECONDS = 2.0  # transient failures wait 2 s, 4 s, 8 s … before the next attempt


@dataclass
class _Run:
    """One campaign being sent by this process."""

    plan: store.CampaignPlan
    vendor: Vendor
    templates: dict[str, Template]
    stop: threading.Event = field(default_factory=threading.Event)
    active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    bucket: _Pacer | None = None


class _Pacer:
    """The campaign's rate limit, shared by its workers."""

    def __init__(self, per_second: int) -> None:
        self.interval = 1.0 / per_second
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self, stop: threading.Event) -> bool:
        with self.lock:
            now = time.monotonic()
            slot = max(self.next, now)
            self.next = slot + self.interval
        delay = slot - time.monotonic()
        return not (delay > 0 and stop.wait(delay))


class DeliveryEngine(QObject):
    #: list[DeliveryEvent] — outcomes as workers learn them (from worker threads).
    events = Signal(object)
    #: CampaignCounts — after each batch the writer applied.
    progress = Signal(object)
    #: (campaign id, status) — a run ended: completed, paused or cancelled.
    finished = Signal(int, str)
    _worker_done = Signal(int)
    _settle = Signal(int)

    def __init__(
        self,
        engine: Engine,
        *,
        workers: int = DEFAULT_WORKERS,
        ledger_path: Path | None = None,
        retry_base_seconds: float = RETRY_BASE_SECONDS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.ledger_path = ledger_path
        self.retry_base_seconds = retry_base_seconds
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(workers)
        self._workers = workers
        self._runs: dict[int, _Run] = {}
        self._writer_thread = QThread(self)
        self._writer_thread.setObjectName("delivery-writer")
        self._writer = _Writer(engine)
        self._writer.moveToThread(self._writer_thread)
        self._writer_thread.start()
        self.events.connect(self._writer.accept, Qt.ConnectionType.QueuedConnection)
        self._writer.applied.connect(self.progress, Qt.ConnectionType.QueuedConnection)
        self._writer.settled.connect(self._settled, Qt.ConnectionType.QueuedConnection)
        self._worker_done.connect(self._on_worker_done, Qt.ConnectionType.QueuedConnection)
        self._settle.connect(self._writer.settle, Qt.ConnectionType.QueuedConnection)

    # -- control (call from the thread that owns the engine) ---------------------------

    def start(self, campaign_id: int) -> bool:
        """Send a running campaign's queued messages; returns False if it is not running
        or is already being sent by this process."""
        if campaign_id in self._runs:
            return False
        plan = store.load_plan(self.engine, campaign_id)
        if plan is None or plan.status != CampaignStatus.RUNNING.value:
            return False
        released = store.release_abandoned(self.engine, campaign_id)
        if released:
            log.info("campaign %s: %s unfinished messages requeued", campaign_id, released)
        run = _Run(
            plan,
            Vendor(plan.vendor, self.ledger_path),
            {label: parse_template(text) for label, text in plan.templates.items()},
        )
        if plan.rate_per_second:
            run.bucket = _Pacer(plan.rate_per_second)
        self._runs[campaign_id] = run
        run.active = self._workers
        for _ in range(self._workers):
            self._pool.start(_Worker(self, run))
        return True

    def pause(self, campaign_id: int) -> bool:
        ok = store.set_status(
            self.engine, campaign_id, CampaignStatus.PAUSED, [CampaignStatus.RUNNING]
        )
        self._stop(campaign_id)
        return ok

    def resume(self, campaign_id: int) -> bool:
        if not store.set_status(
            self.engine, campaign_id, CampaignStatus.RUNNING, [CampaignStatus.PAUSED]
        ):
            return False
        return self.start(campaign_id)

    def cancel(self, campaign_id: int) -> bool:
        ok = store.set_status(
            self.engine,
            campaign_id,
            CampaignStatus.CANCELLED,
            [
                CampaignStatus.RUNNING,
                CampaignStatus.PAUSED,
                CampaignStatus.SCHEDULED,
                CampaignStatus.DRAFT,
            ],
        )
        if ok and campaign_id not in self._runs:
            # Nothing in flight here: settle the unsent recipients now.
            self._writer_request_settle(campaign_id)
        self._stop(campaign_id)
        return ok

    def is_running(self, campaign_id: int) -> bool:
        return campaign_id in self._runs

    def shutdown(self) -> None:
        """Stop every run, wait for the workers, flush the writer, stop its thread."""
        for run in self._runs.values():
            run.stop.set()
        self._pool.waitForDone()
        for run in self._runs.values():
            run.vendor.close()
        self._runs.clear()
        # Outcomes still queued for the writer are applied before its thread stops.
        QMetaObject.invokeMethod(self._writer, "flush", Qt.ConnectionType.BlockingQueuedConnection)
        self._writer_thread.quit()
        self._writer_thread.wait()

    def _stop(self, campaign_id: int) -> None:
        run = self._runs.get(campaign_id)
        if run is not None:
            run.stop.set()

    def _writer_request_settle(self, campaign_id: int) -> None:
        self._settle.emit(campaign_id)

    # -- worker callbacks --------------------------------------------------------------

    def _worker_exited(self, run: _Run) -> None:
        with run.lock:
            run.active -= 1
            last = run.active == 0
        if last:
            self._worker_done.emit(run.plan.campaign_id)

    @Slot(int)
    def _on_worker_done(self, campaign_id: int) -> None:
        self._writer_request_settle(campaign_id)

    @Slot(int, str)
    def _settled(self, campaign_id: int, status: str) -> None:
        run = self._runs.pop(campaign_id, None)
        if run is not None:
            run.vendor.close()
        self.finished.emit(campaign_id, status)


class _Worker(QRunnable):
    def __init__(self, owner: DeliveryEngine, run: _Run) -> None:
        super().__init__()
        self.owner = owner
        self.run_state = run
        self.token = uuid.uuid4().hex

    def run(self) -> None:
        run = self.run_state
        try:
            while not run.stop.is_set():
                claimed = with_retries(
                    lambda: store.claim(self.owner.engine, run.plan.campaign_id, self.token, CHUNK),
                    "claiming messages",
                )
                if not claimed:
                    wait = store.seconds_until_due(self.owner.engine, run.plan.campaign_id)
                    if wait is None:
                        return  # nothing left to send
                    # Retries not yet due, or due rows other workers hold: look again soon.
                    run.stop.wait(min(max(wait, 0.02), 1.0))
                    continue
                self._send(claimed)
        except Exception:
            log.exception("delivery worker for campaign %s failed", run.plan.campaign_id)
        finally:
            self.owner._worker_exited(run)

    def _send(self, claimed: list[store.ClaimedMessage]) -> None:
        """Send a claimed chunk, keeping up to PUBLISH_EVERY messages in flight."""
        run = self.run_state
        plan = run.plan
        in_flight: list[tuple[store.ClaimedMessage, PendingOutcome]] = []
        published = time.monotonic()
        for index, msg in enumerate(claimed):
            if run.stop.is_set() or (run.bucket and not run.bucket.wait(run.stop)):
                self._release([m.delivery_id for m in claimed[index:]])
                break
            body = run.templates[msg.variant].render(msg.customer)
            message = Message(
                msg.key, plan.campaign_id, plan.channel, msg.address, body, msg.attempts + 1
            )
            in_flight.append((msg, run.vendor.submit(message)))
            # Publish in groups, and at least every PUBLISH_SECONDS when sending is slow.
            if len(in_flight) >= PUBLISH_EVERY or time.monotonic() - published > PUBLISH_SECONDS:
                self._publish(in_flight)
                in_flight = []
                published = time.monotonic()
        self._publish(in_flight)

    def _publish(self, in_flight: list[tuple[store.ClaimedMessage, PendingOutcome]]) -> None:
        """Wait for the vendor's answers and publish them as delivery events."""
        if not in_flight:
            return
        plan = self.run_state.plan
        events: list[DeliveryEvent] = []
        for msg, pending in in_flight:
            outcome = pending.result()
            attempt = msg.attempts + 1
            now = utcnow()
            retry_at = None
            if outcome.sent:
                status = DeliveryStatus.SENT.value
            elif outcome.transient and attempt < plan.max_attempts:
                status = DeliveryStatus.QUEUED.value
                retry_at = now + timedelta(
                    seconds=self.owner.retry_base_seconds * 2 ** (attempt - 1)
                )
            else:
                status = DeliveryStatus.FAILED.value
            events.append(
                DeliveryEvent(
                    plan.campaign_id,
                    msg.delivery_id,
                    msg.customer_id,
                    msg.variant,
                    self.token,
                    status,
                    outcome.reason,
                    attempt,
                    now,
                    retry_at,
                )
            )
        self.owner.events.emit(events)

    def _release(self, delivery_ids: list[int]) -> None:
        with_retries(
            lambda: store.release(self.owner.engine, self.token, delivery_ids),
            "releasing messages",
        )


class _Writer(QObject):
    """The single writer of outcomes: batches events into one transaction each."""

    applied = Signal(object)  # CampaignCounts
    settled = Signal(int, str)

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.buffer: list[DeliveryEvent] = []
        self.timer: QTimer | None = None

    @Slot(object)
    def accept(self, events: list[DeliveryEvent]) -> None:
        self.buffer.extend(events)
        if len(self.buffer) >= FLUSH_EVERY:
            self.flush()
            return
        if self.timer is None:  # created here, on the writer's own thread
            self.timer = QTimer(self)
            self.timer.setSingleShot(True)
            self.timer.timeout.connect(self.flush)
        if not self.timer.isActive():
            self.timer.start(FLUSH_MS)

    @Slot()
    def flush(self) -> None:
        if self.timer is not None:
            self.timer.stop()
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []

        def apply() -> list[CampaignCounts | None]:
            with self.engine.begin() as conn:
                store.apply_events(conn, batch)
                return [store.counts(conn, cid) for cid in {e.campaign_id for e in batch}]

        try:
            snapshots = with_retries(apply, "recording delivery outcomes")
        except Exception:
            # Keep the outcomes: the next flush tries again. Until then their rows stay
            # `sending`, which a resume would resend safely under the same keys.
            log.exception("could not record %s delivery outcomes", len(batch))
            self.buffer[:0] = batch
            return
        for snapshot in snapshots:
            if snapshot is not None:
                self.applied.emit(snapshot)

    @Slot(int)
    def settle(self, campaign_id: int) -> None:
        """The campaign's workers have all stopped: record what is left, then finish it."""
        self.flush()
        status = store.finish_if_done(self.engine, campaign_id) or ""
        snapshot = store.counts(self.engine, campaign_id)
        if snapshot is not None:
            self.applied.emit(snapshot)
        self.settled.emit(campaign_id, status)
