"""The delivery engine: workers on a QThreadPool send, one writer records, the bus listens.

One thread — the writer — is the only one in this process that writes delivery state. It
claims chunks of queued deliveries and hands them to the workers through a queue; workers
render each message, hand it to the vendor, and publish every outcome as a `DeliveryEvent`
on the engine's `events` signal (the pub-sub bus). The writer consumes those events and
applies them in batches — every FLUSH_EVERY events or FLUSH_MS milliseconds, one transaction
each — then publishes the campaign's counters on `progress`. Views subscribe to the same
signals for live progress. A single writer keeps SQLite's one write lock uncontended and
MySQL free of deadlocks between claims and outcomes. QtCore only: the CLI runs this on a
QCoreApplication.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
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
from ..access.actor import Actor, Permission, require
from ..access.audit import Action
from ..retry import with_retries
from . import store
from .events import CampaignCounts, DeliveryEvent
from .templates import Template, parse_template
from .vendor import Message, PendingOutcome, Vendor

log = logging.getLogger(__name__)

FLUSH_EVERY = 500
FLUSH_MS = 250
CHUNK = 250
MIN_CHUNK = 10
PUBLISH_EVERY = 125
PUBLISH_SECONDS = 0.1
DEFAULT_WORKERS = 8
RETRY_BASE_SECONDS = 2.0  # transient failures wait 2 s, 4 s, 8 s … before the next attempt

_Chunk = tuple[str, list[store.ClaimedMessage]]  # (claim token, messages)


@dataclass
class _Run:
    """One campaign being sent by this process. `work` is filled by the writer only."""

    plan: store.CampaignPlan
    vendor: Vendor
    templates: dict[str, Template]
    workers: int
    stop: threading.Event = field(default_factory=threading.Event)
    work: queue.Queue[_Chunk | None] = field(default_factory=queue.Queue)
    bucket: _Pacer | None = None
    # Writer-thread state: chunks handed out and not yet reported done, and their size.
    in_flight: int = 0
    chunk: int = CHUNK
    active: int = 0  # workers still running (guarded by `lock`)
    lock: threading.Lock = field(default_factory=threading.Lock)


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
    """Sends campaigns. Control calls return at once: the database work they imply runs on
    the writer's thread, so the thread that owns the engine (the GUI's) never waits for it."""

    #: list[DeliveryEvent] — outcomes as workers learn them (from worker threads).
    events = Signal(object)
    #: CampaignCounts — after each batch the writer applied.
    progress = Signal(object)
    #: (campaign id, status) — a campaign's status was changed by a control call.
    status_changed = Signal(int, str)
    #: (campaign id, status) — no run of the campaign is active any more: it completed, was
    #: paused or cancelled, or could not start (then `status` says why: e.g. "draft").
    finished = Signal(int, str)
    # Requests to the writer thread (queued).
    _start_request = Signal(int)
    _pause_request = Signal(int, object)  # (campaign id, Actor)
    _resume_request = Signal(int, object)
    _cancel_request = Signal(int, object)
    _chunk_done = Signal(object)
    _release = Signal(object, str, object)

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
        self.workers = workers
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(workers)
        self._active: set[int] = set()
        self._active_lock = threading.Lock()
        self._writer_thread = QThread(self)
        self._writer_thread.setObjectName("delivery-writer")
        self._writer = _Writer(self)
        self._writer.moveToThread(self._writer_thread)
        self._writer_thread.start()
        queued = Qt.ConnectionType.QueuedConnection
        self.events.connect(self._writer.accept, queued)
        self._start_request.connect(self._writer.start_run, queued)
        self._pause_request.connect(self._writer.pause_run, queued)
        self._resume_request.connect(self._writer.resume_run, queued)
        self._cancel_request.connect(self._writer.cancel_run, queued)
        self._chunk_done.connect(self._writer.chunk_done, queued)
        self._release.connect(self._writer.release, queued)
        self._writer.applied.connect(self.progress, queued)
        self._writer.changed.connect(self.status_changed, queued)
        self._writer.settled.connect(self._settled, queued)

    # -- control: each call returns at once; signals report the outcome -----------------

    def start(self, campaign_id: int) -> None:
        """Send a running campaign's queued messages (requeueing what a killed run left)."""
        self._start_request.emit(campaign_id)

    # The role check runs here, at once and without the database (the caller may be the
    # GUI thread); the status change and its audit entry share one transaction.

    def pause(self, campaign_id: int, *, actor: Actor) -> None:
        require(actor, Permission.CONTROL_CAMPAIGNS)
        self._pause_request.emit(campaign_id, actor)

    def resume(self, campaign_id: int, *, actor: Actor) -> None:
        require(actor, Permission.CONTROL_CAMPAIGNS)
        self._resume_request.emit(campaign_id, actor)

    def cancel(self, campaign_id: int, *, actor: Actor) -> None:
        require(actor, Permission.CONTROL_CAMPAIGNS)
        self._cancel_request.emit(campaign_id, actor)

    def is_running(self, campaign_id: int) -> bool:
        with self._active_lock:
            return campaign_id in self._active

    def shutdown(self) -> None:
        """Stop every run, wait for the workers, record what they learned, stop the writer."""
        blocking = Qt.ConnectionType.BlockingQueuedConnection
        QMetaObject.invokeMethod(self._writer, "stop_all", blocking)
        self.pool.waitForDone()
        # Everything the workers published is applied before the writer's thread ends.
        QMetaObject.invokeMethod(self._writer, "close_all", blocking)
        self._writer_thread.quit()
        self._writer_thread.wait()

    # -- called from the writer and worker threads --------------------------------------

    def _mark_active(self, campaign_id: int, active: bool) -> None:
        with self._active_lock:
            if active:
                self._active.add(campaign_id)
            else:
                self._active.discard(campaign_id)

    def _worker_exited(self, run: _Run) -> None:
        with run.lock:
            run.active -= 1
            last = run.active == 0
        if last:
            self._writer.settle_later(run.plan.campaign_id)

    @Slot(int, str)
    def _settled(self, campaign_id: int, status: str) -> None:
        self.finished.emit(campaign_id, status)


class _Worker(QRunnable):
    def __init__(self, owner: DeliveryEngine, run: _Run) -> None:
        super().__init__()
        self.owner = owner
        self.run_state = run

    def run(self) -> None:
        run = self.run_state
        try:
            while not run.stop.is_set():
                try:
                    chunk = run.work.get(timeout=0.5)
                except queue.Empty:
                    continue
                if chunk is None:
                    return  # the writer says nothing is left
                token, messages = chunk
                try:
                    self._send(token, messages)
                finally:
                    self.owner._chunk_done.emit(run)
        except Exception:
            log.exception("delivery worker for campaign %s failed", run.plan.campaign_id)
        finally:
            self.owner._worker_exited(run)

    def _send(self, token: str, claimed: list[store.ClaimedMessage]) -> None:
        """Send a chunk, keeping up to PUBLISH_EVERY messages in flight at the vendor."""
        run = self.run_state
        plan = run.plan
        in_flight: list[tuple[store.ClaimedMessage, PendingOutcome]] = []
        published = time.monotonic()
        for index, msg in enumerate(claimed):
            if run.stop.is_set() or (run.bucket and not run.bucket.wait(run.stop)):
                # Paused or cancelled: the rest goes back to the queue, unsent.
                self.owner._release.emit(run, token, [m.delivery_id for m in claimed[index:]])
                break
            body = run.templates[msg.variant].render(msg.customer)
            message = Message(
                msg.key, plan.campaign_id, plan.channel, msg.address, body, msg.attempts + 1
            )
            in_flight.append((msg, run.vendor.submit(message)))
            # Publish in groups, and at least every PUBLISH_SECONDS when sending is slow.
            if len(in_flight) >= PUBLISH_EVERY or time.monotonic() - published > PUBLISH_SECONDS:
                self._publish(token, in_flight)
                in_flight = []
                published = time.monotonic()
        self._publish(token, in_flight)

    def _publish(
        self, token: str, in_flight: list[tuple[store.ClaimedMessage, PendingOutcome]]
    ) -> None:
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
                    token,
                    status,
                    outcome.reason,
                    attempt,
                    now,
                    retry_at,
                )
            )
        self.owner.events.emit(events)


class _Writer(QObject):
    """The single writer of delivery state: starts and stops runs, claims work, records
    outcomes in batches. Lives on its own thread; every database call of the engine is here."""

    applied = Signal(object)  # CampaignCounts
    changed = Signal(int, str)
    settled = Signal(int, str)
    _settle_request = Signal(int)

    def __init__(self, owner: DeliveryEngine) -> None:
        super().__init__()
        self.owner = owner
        self.engine = owner.engine
        self.buffer: list[DeliveryEvent] = []
        self.timer: QTimer | None = None
        self.runs: dict[int, _Run] = {}
        self._settle_request.connect(self.settle, Qt.ConnectionType.QueuedConnection)

    def settle_later(self, campaign_id: int) -> None:
        """Thread-safe: settle the campaign on the writer's thread."""
        self._settle_request.emit(campaign_id)

    # -- control --------------------------------------------------------------------------

    @Slot(int)
    def start_run(self, campaign_id: int) -> None:
        if campaign_id in self.runs:
            return  # already sending in this process
        owner = self.owner
        try:
            plan = store.load_plan(self.engine, campaign_id)
            if plan is None or plan.status != CampaignStatus.RUNNING.value:
                self.settled.emit(campaign_id, plan.status if plan else "missing")
                return
            released = store.release_abandoned(self.engine, campaign_id)
        except Exception:
            log.exception("cannot start campaign %s", campaign_id)
            self.settled.emit(campaign_id, "error")
            return
        if released:
            log.info("campaign %s: %s unfinished messages requeued", campaign_id, released)
        run = _Run(
            plan,
            Vendor(plan.vendor, owner.ledger_path),
            {label: parse_template(text) for label, text in plan.templates.items()},
            owner.workers,
        )
        if plan.rate_per_second:
            run.bucket = _Pacer(plan.rate_per_second)
        run.active = owner.workers
        self.runs[campaign_id] = run
        owner._mark_active(campaign_id, True)
        for _ in range(owner.workers):
            owner.pool.start(_Worker(owner, run))
        self.begin(run)

    @Slot(int, object)
    def pause_run(self, campaign_id: int, actor: Actor) -> None:
        if self._set_status(campaign_id, CampaignStatus.PAUSED, [CampaignStatus.RUNNING],
                            (actor, Action.CAMPAIGN_PAUSE)):
            self._stop(campaign_id)

    @Slot(int, object)
    def resume_run(self, campaign_id: int, actor: Actor) -> None:
        if self._set_status(campaign_id, CampaignStatus.RUNNING, [CampaignStatus.PAUSED],
                            (actor, Action.CAMPAIGN_RESUME)):
            self.start_run(campaign_id)

    @Slot(int, object)
    def cancel_run(self, campaign_id: int, actor: Actor) -> None:
        cancellable = [
            CampaignStatus.RUNNING,
            CampaignStatus.PAUSED,
            CampaignStatus.SCHEDULED,
            CampaignStatus.DRAFT,
        ]
        if not self._set_status(campaign_id, CampaignStatus.CANCELLED, cancellable,
                                (actor, Action.CAMPAIGN_CANCEL)):
            return
        if campaign_id in self.runs:
            self._stop(campaign_id)  # settles when its workers have stopped
        else:
            self.settle(campaign_id)  # nothing in flight: settle the unsent recipients now

    def _set_status(
        self,
        campaign_id: int,
        new: CampaignStatus,
        allowed: list[CampaignStatus],
        audit: tuple[Actor, str],
    ) -> bool:
        try:
            ok = with_retries(
                partial(store.set_status, self.engine, campaign_id, new, allowed, audit=audit),
                "changing a campaign's status",
            )
        except Exception:
            log.exception("cannot change campaign %s to %s", campaign_id, new.value)
            return False
        if ok:
            self.changed.emit(campaign_id, new.value)
        return ok

    def _stop(self, campaign_id: int) -> None:
        run = self.runs.get(campaign_id)
        if run is not None:
            run.stop.set()
            self.halt(run)

    @Slot()
    def stop_all(self) -> None:
        for run in self.runs.values():
            run.stop.set()
            self.halt(run)

    @Slot()
    def close_all(self) -> None:
        self.flush()
        for run in self.runs.values():
            run.vendor.close()
            self.owner._mark_active(run.plan.campaign_id, False)
        self.runs.clear()

    # -- handing out work --------------------------------------------------------------

    def begin(self, run: _Run) -> None:
        # Small campaigns get small chunks, so every worker has a share to send.
        queued = store.queued_count(self.engine, run.plan.campaign_id)
        run.chunk = max(MIN_CHUNK, min(CHUNK, queued // (2 * run.workers) or MIN_CHUNK))
        self._refill(run)

    @Slot(object)
    def chunk_done(self, run: _Run) -> None:
        run.in_flight -= 1
        self.flush()  # outcomes first: a retry must be due again before it is claimed
        self._refill(run)

    @Slot(object, str, object)
    def release(self, run: _Run, token: str, delivery_ids: list[int]) -> None:
        self.flush()
        with_retries(lambda: store.release(self.engine, token, delivery_ids), "releasing messages")

    def halt(self, run: _Run) -> None:
        """Stopping: chunks not yet started go back to the queue; workers are told to end."""
        while True:
            try:
                chunk = run.work.get_nowait()
            except queue.Empty:
                break
            if chunk is not None:
                run.in_flight -= 1
                token, messages = chunk
                self.release(run, token, [m.delivery_id for m in messages])
        for _ in range(run.workers):
            run.work.put(None)

    def _refill(self, run: _Run) -> None:
        """Keep one chunk ready per worker; when nothing is left, tell the workers."""
        if run.stop.is_set():
            return
        cid = run.plan.campaign_id
        while run.in_flight < run.workers:
            token = uuid.uuid4().hex
            claimed = with_retries(
                partial(store.claim, self.engine, cid, token, run.chunk), "claiming messages"
            )
            if not claimed:
                break
            run.in_flight += 1
            run.work.put((token, claimed))
        if run.in_flight:
            return  # a chunk's completion will call back here
        wait = store.seconds_until_due(self.engine, cid)
        if wait is None:
            for _ in range(run.workers):
                run.work.put(None)  # done: every worker ends
        else:
            # Only retries waiting for their backoff: look again when the first is due.
            QTimer.singleShot(int(max(wait, 0.01) * 1000), self, lambda: self._refill(run))

    # -- recording outcomes --------------------------------------------------------------

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
        run = self.runs.pop(campaign_id, None)
        if run is not None:
            run.vendor.close()
        self.owner._mark_active(campaign_id, False)
        status = store.finish_if_done(self.engine, campaign_id) or ""
        snapshot = store.counts(self.engine, campaign_id)
        if snapshot is not None:
            self.applied.emit(snapshot)
        self.settled.emit(campaign_id, status)
