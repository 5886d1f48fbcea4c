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

A run holds its campaign's lease (see store.py): the writer renews it every heartbeat and
reads the campaign's status then, so a pause or cancel made by any installation through the
database is obeyed within one heartbeat. Workers send only before a local deadline — the
start of the last successful renewal plus the lease's lifetime minus a margin — so a process
whose heartbeat stalled stops before anyone else may take its lease. A campaign whose lease a
live process holds waits here, checking every heartbeat, and is taken over once it expired.
A database error that survives the retries stops the run and pauses the campaign with the
reason; nothing is lost: rows whose outcome went unrecorded stay `sending` and are resent
later under the same idempotency key.

An A/B test with a winner adds one step: when nothing is queued but recipients are held, the
writer looks at the decision's time (in the database) at least every heartbeat and, once it
has come, chooses the winner and releases the rest in one transaction under the lease
(abtest.py); sending then goes on as before.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

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

from minicrm_desktop.services.core.retry import with_retries

from ...errors import ConfigError
from ...models.base import utcnow
from ...models.campaign import CampaignStatus, Channel, DeliveryStatus
from ..access.actor import Actor, Permission, require
from ..access.audit import Action
from . import abtest, store
from .email import compose_body, unsubscribe_url
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
PROGRESS_SECONDS = 0.25
DEFAULT_WORKERS = 8
RETRY_BASE_SECONDS = 2.0  # transient failures wait 2 s, 4 s, 8 s … before the next attempt
# The lease: renewed every HEARTBEAT seconds, lost LEASE_TTL seconds after the last renewal.
# Workers stop sending LEASE_TTL / 3 before that (more than any one vendor call takes).
# The environment variables let tests and operators shorten them for CLI processes.
HEARTBEAT_SECONDS = 5.0
LEASE_TTL_SECONDS = 30.0
# After a database error, how long a stopped run keeps trying to record the pause.
FAULT_GRACE_SECONDS = 60.0
_engines = 0  # DeliveryEngines made by this process: each is a lease owner of its own


def _env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return float(value) if value else default
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}") from None


def lease_owner_id() -> str:
    """Who delivers, as people read it: "host pid 1234 since 09:12:03"."""
    global _engines
    _engines += 1
    host = socket.gethostname()[:150] or "localhost"
    owner = f"{host} pid {os.getpid()} since {time.strftime('%H:%M:%S')}"
    return owner if _engines == 1 else f"{owner} #{_engines}"


def describe_error(exc: BaseException) -> str:
    """One line for a user: the driver's message, not SQLAlchemy's wrapping."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).splitlines() or [type(cause).__name__])[0]
    return f"database error: {first}"[: store.REASON_LEN]

_Chunk = tuple[str, list[store.ClaimedMessage]]  # (claim token, messages)
T = TypeVar("T")


@dataclass
class _Run:
    """One campaign being sent by this process. `work` is filled by the writer only."""

    plan: store.CampaignPlan
    vendor: Vendor
    templates: dict[str, Template]
    workers: int
    subject: Template | None = None  # email: rendered per recipient like the body
    footer: Template | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    work: queue.Queue[_Chunk | None] = field(default_factory=queue.Queue)
    bucket: _Pacer | None = None
    # Writer-thread state: chunks handed out and not yet reported done, and their size.
    in_flight: int = 0
    chunk: int = CHUNK
    active: int = 0  # workers still running (guarded by `lock`)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Workers send only before this time.monotonic() value (set by the writer on renewal).
    deadline: float = 0.0
    starved: bool = False  # a refill waited for the lease: the next heartbeat refills
    fault: str | None = None  # why the run stopped on its own (a database error, …)
    lost: bool = False  # another process has the lease: record nothing more under it

    def may_send(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.deadline


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
    #: (campaign id, owner) — another live process delivers the campaign; this one waits
    #: and takes over if that lease expires.
    waiting = Signal(int, str)
    #: (campaign id, reason) — a run stopped on a fault (a database error); `finished` follows
    #: with "paused" when the pause could be recorded.
    faulted = Signal(int, str)
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
        heartbeat_seconds: float | None = None,
        lease_ttl_seconds: float | None = None,
        fault_grace_seconds: float | None = None,
        parent: QObject | None = None,
    ) -> None:
        if workers < 1:
            raise ConfigError(f"at least 1 worker is needed to send, got {workers}")
        heartbeat = heartbeat_seconds or _env_seconds("MINICRM_LEASE_HEARTBEAT",
                                                      HEARTBEAT_SECONDS)
        ttl = lease_ttl_seconds or _env_seconds("MINICRM_LEASE_TTL", LEASE_TTL_SECONDS)
        if not 0 < heartbeat < ttl / 2:
            raise ConfigError(f"the lease heartbeat ({heartbeat} s) must be positive and "
                              f"under half the lease's lifetime ({ttl} s)")
        super().__init__(parent)
        self.engine = engine
        self.ledger_path = ledger_path
        self.retry_base_seconds = retry_base_seconds
        self.workers = workers
        self.heartbeat = heartbeat
        self.lease_ttl = ttl
        self.send_window = ttl - ttl / 3  # after a renewal's start: sending stops after it
        self.fault_grace = fault_grace_seconds or _env_seconds("MINICRM_FAULT_GRACE",
                                                               FAULT_GRACE_SECONDS)
        self.owner_id = lease_owner_id()
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
        self._writer.waiting.connect(self.waiting, queued)
        self._writer.faulted.connect(self.faulted, queued)

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
        """Sending here, or waiting here for another process's lease."""
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
        in_flight: list[tuple[store.ClaimedMessage, PendingOutcome]] = []
        published = time.monotonic()
        for index, msg in enumerate(claimed):
            if (
                not run.may_send()
                or (run.bucket and not run.bucket.wait(run.stop))
                or not run.may_send()
            ):
                # Paused, cancelled, or the lease not renewed in time: the rest goes back.
                self.owner._release.emit(run, token, [m.delivery_id for m in claimed[index:]])
                break
            message = _message(run, msg)
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
                    outcome.opened if outcome.sent else None,
                )
            )
        self.owner.events.emit(events)


def _message(run: _Run, msg: store.ClaimedMessage) -> Message:
    """The message as the recipient gets it: an email with its subject, sender and footer,
    and its own unsubscribe link (the same on every attempt: it derives from the key)."""
    plan = run.plan
    fields = dict(msg.customer)
    if plan.channel == Channel.EMAIL.value:
        fields["unsubscribe_url"] = unsubscribe_url(plan.link_secret, msg.key)
    body = compose_body(run.templates[msg.variant], run.footer, fields)
    return Message(
        msg.key, plan.campaign_id, plan.channel, msg.address, body, msg.attempts + 1,
        subject=run.subject.render(fields) if run.subject else None,
        sender=plan.sender,
    )


class _Writer(QObject):
    """The single writer of delivery state: starts and stops runs, claims work, records
    outcomes in batches, keeps the leases. Lives on its own thread; every database call of
    the engine is here."""

    applied = Signal(object)  # CampaignCounts
    changed = Signal(int, str)
    settled = Signal(int, str)
    waiting = Signal(int, str)
    faulted = Signal(int, str)
    _settle_request = Signal(int)

    def __init__(self, owner: DeliveryEngine) -> None:
        super().__init__()
        self.owner = owner
        self.engine = owner.engine
        self.me = owner.owner_id
        self.buffer: list[DeliveryEvent] = []
        self.timer: QTimer | None = None
        self.heartbeat: QTimer | None = None
        self.runs: dict[int, _Run] = {}
        # Campaigns another live process delivers: id -> its lease holder.
        self.waiting_for: dict[int, str] = {}
        # Stopped runs whose pause could not be recorded yet: id -> (run, give up at).
        self.unrecorded: dict[int, tuple[_Run, float]] = {}
        self.db_failing = False  # hold flushes until a fault's retry (no flood of errors)
        self.reported: dict[int, float] = {}  # campaign id -> when progress last went out
        self._settle_request.connect(self.settle, Qt.ConnectionType.QueuedConnection)

    def settle_later(self, campaign_id: int) -> None:
        """Thread-safe: settle the campaign on the writer's thread."""
        self._settle_request.emit(campaign_id)

    def _db(self, what: str, work: Callable[[], T]) -> T:
        """A database step with the usual retries for lost lock races."""
        return with_retries(work, what)

    # -- control --------------------------------------------------------------------------

    @Slot(int)
    def start_run(self, campaign_id: int) -> None:
        if campaign_id in self.runs or campaign_id in self.unrecorded:
            return  # already sending (or stopping) in this process
        owner = self.owner
        started = time.monotonic()
        try:
            plan = store.load_plan(self.engine, campaign_id)
            if plan is None or plan.status != CampaignStatus.RUNNING.value:
                self._stop_waiting(campaign_id, plan.status if plan else "missing")
                return
            grant = self._db("taking the delivery lease", partial(
                store.acquire_lease, self.engine, campaign_id, self.me, owner.lease_ttl))
        except Exception as exc:
            self._start_failed(campaign_id, exc)
            return
        if not grant.acquired:
            if grant.holder is None:  # no longer running
                self._stop_waiting(campaign_id, grant.status or "missing")
            else:
                self._wait_for(campaign_id, grant.holder)
            return
        self.waiting_for.pop(campaign_id, None)
        store.reserve_space(self.engine)
        if grant.requeued:
            log.info("campaign %s: %s unfinished messages requeued", campaign_id, grant.requeued)
        run = _Run(
            plan,
            Vendor(plan.vendor, owner.ledger_path),
            {label: parse_template(text) for label, text in plan.templates.items()},
            owner.workers,
            parse_template(plan.subject) if plan.subject else None,
            parse_template(plan.footer) if plan.footer and plan.footer.strip() else None,
        )
        run.deadline = started + owner.send_window
        if plan.rate_per_second:
            run.bucket = _Pacer(plan.rate_per_second)
        run.active = owner.workers
        self.runs[campaign_id] = run
        owner._mark_active(campaign_id, True)
        self._ensure_heartbeat()
        for _ in range(owner.workers):
            owner.pool.start(_Worker(owner, run))
        self.begin(run)

    def _start_failed(self, campaign_id: int, exc: BaseException) -> None:
        self.waiting_for.pop(campaign_id, None)
        self.owner._mark_active(campaign_id, False)
        reason = describe_error(exc)
        log.info("cannot start campaign %s: %s", campaign_id, reason, exc_info=True)
        self.faulted.emit(campaign_id, reason)
        self.settled.emit(campaign_id, "error")

    def _wait_for(self, campaign_id: int, holder: str) -> None:
        if self.waiting_for.get(campaign_id) != holder:
            log.info("campaign %s is being delivered by %s: waiting", campaign_id, holder)
            self.waiting.emit(campaign_id, holder)
        self.waiting_for[campaign_id] = holder
        self.owner._mark_active(campaign_id, True)
        self._ensure_heartbeat()

    def _stop_waiting(self, campaign_id: int, status: str) -> None:
        self.waiting_for.pop(campaign_id, None)
        self.owner._mark_active(campaign_id, False)
        self.settled.emit(campaign_id, status)

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
            self._stop(campaign_id, "cancelled")  # settles when its workers have stopped
        else:
            # Nothing in flight here: settle the unsent recipients now (unless another
            # live process delivers it: that one settles them within a heartbeat).
            self.settle(campaign_id)

    def _set_status(
        self,
        campaign_id: int,
        new: CampaignStatus,
        allowed: list[CampaignStatus],
        audit: tuple[Actor, str],
    ) -> bool:
        try:
            ok = self._db("changing a campaign's status", partial(
                store.set_status, self.engine, campaign_id, new, allowed, audit=audit))
        except Exception as exc:
            log.info("cannot change campaign %s to %s", campaign_id, new.value, exc_info=True)
            self.faulted.emit(campaign_id, describe_error(exc))
            return False
        if ok:
            self.changed.emit(campaign_id, new.value)
        return ok

    def _stop(self, campaign_id: int, status: str = "paused") -> None:
        run = self.runs.get(campaign_id)
        if run is not None:
            self._stop_run(run)
        elif campaign_id in self.waiting_for:  # the live owner obeys the status itself
            self._stop_waiting(campaign_id, status)

    def _stop_run(self, run: _Run) -> None:
        if not run.stop.is_set():
            run.stop.set()
            self.halt(run)

    @Slot()
    def stop_all(self) -> None:
        for run in self.runs.values():
            self._stop_run(run)
        for campaign_id in list(self.waiting_for):
            self._stop_waiting(campaign_id, "stopped")

    @Slot()
    def close_all(self) -> None:
        """Shutting down: record what the workers learned and give the leases up, so
        another installation can take over at once (the campaigns stay running)."""
        self.flush(force=True)
        stopped = [(cid, run) for cid, (run, _give_up_at) in self.unrecorded.items()]
        for campaign_id, run in [*self.runs.items(), *stopped]:
            if campaign_id in self.runs:
                run.vendor.close()
            self.owner._mark_active(campaign_id, False)
            if not run.lost:
                try:
                    self._db("giving the delivery lease up", partial(
                        store.release_lease, self.engine, campaign_id, self.me))
                except Exception:
                    log.info("campaign %s: the lease could not be given up; it expires by "
                             "itself", campaign_id, exc_info=True)
        self.runs.clear()
        self.unrecorded.clear()
        store.release_reserve(self.engine)
        for timer in (self.heartbeat, self.timer):
            if timer is not None:
                timer.stop()

    # -- the lease's heartbeat -------------------------------------------------------------

    def _ensure_heartbeat(self) -> None:
        if self.heartbeat is None:  # created here, on the writer's own thread
            self.heartbeat = QTimer(self)
            self.heartbeat.setInterval(int(self.owner.heartbeat * 1000))
            self.heartbeat.timeout.connect(self.beat)
        if not self.heartbeat.isActive():
            self.heartbeat.start()

    @Slot()
    def beat(self) -> None:
        """Renew our leases and obey status changes made elsewhere; retry waiting campaigns
        and pauses not yet recorded."""
        for run in list(self.runs.values()):
            if not run.stop.is_set():
                self._renew(run)
        for campaign_id in list(self.waiting_for):
            self.start_run(campaign_id)
        for campaign_id in list(self.unrecorded):
            self._record_fault(campaign_id)
        if not (self.runs or self.waiting_for or self.unrecorded) and self.heartbeat:
            self.heartbeat.stop()

    def _renew(self, run: _Run) -> None:
        cid = run.plan.campaign_id
        started = time.monotonic()
        try:
            status = self._db("renewing the delivery lease", partial(
                store.renew_lease, self.engine, cid, self.me, self.owner.lease_ttl))
        except Exception as exc:
            self._fault(run, exc)
            return
        if status is None:
            log.info("campaign %s: the delivery lease was lost to another process", cid)
            run.lost = True
            self._stop_run(run)
        elif status != CampaignStatus.RUNNING.value:
            # Paused or cancelled by another installation (or the CLI): stop sending.
            log.info("campaign %s is now %s: stopping", cid, status)
            self.changed.emit(cid, status)
            self._stop_run(run)
        else:
            run.deadline = started + self.owner.send_window
            if run.starved:
                run.starved = False
                self._refill(run)

    # -- faults ------------------------------------------------------------------------------

    def _fault(self, run: _Run, exc: BaseException) -> None:
        """A database step failed after its retries: stop the run; once its workers have
        stopped, the campaign is paused with the reason (see settle)."""
        self.db_failing = True
        if run.fault is None and not run.lost:
            run.fault = describe_error(exc)
            # One entry with the traceback in the log; the user sees the one-line reason.
            log.info("campaign %s stopped: %s", run.plan.campaign_id, run.fault, exc_info=True)
        self._stop_run(run)

    def _record_fault(self, campaign_id: int) -> None:
        """Pause the stopped run's campaign with the reason, then record what its workers
        learned; retried every heartbeat until the database answers or the grace period
        ends. Outcomes left unrecorded keep their rows `sending`: resent under the same key."""
        run, give_up_at = self.unrecorded[campaign_id]
        reason = run.fault or ""
        store.release_reserve(self.engine)  # a full disk leaves room for the pause
        try:
            status = self._db("pausing the campaign", partial(
                store.pause_for_fault, self.engine, campaign_id, self.me, reason))
        except Exception:
            if time.monotonic() < give_up_at:
                return
            log.info("campaign %s: the pause could not be recorded", campaign_id, exc_info=True)
            status, reason = "running", (
                f"{reason}; it could not be marked paused (its lease expires by itself)")
        self.flush(force=True)
        del self.unrecorded[campaign_id]
        self.buffer = [e for e in self.buffer if e.campaign_id != campaign_id]
        self.owner._mark_active(campaign_id, False)
        self.faulted.emit(campaign_id, reason)
        self.settled.emit(campaign_id, status or "running")

    # -- handing out work --------------------------------------------------------------

    def begin(self, run: _Run) -> None:
        # Small campaigns get small chunks, so every worker has a share to send.
        try:
            queued = self._db("counting queued messages", partial(
                store.queued_count, self.engine, run.plan.campaign_id))
        except Exception as exc:
            self._fault(run, exc)
            return
        run.chunk = max(MIN_CHUNK, min(CHUNK, queued // (2 * run.workers) or MIN_CHUNK))
        self._refill(run)

    @Slot(object)
    def chunk_done(self, run: _Run) -> None:
        run.in_flight -= 1
        self.flush()  # outcomes first: a retry must be due again before it is claimed
        self._refill(run)

    @Slot(object, str, object)
    def release(self, run: _Run, token: str, delivery_ids: list[int]) -> None:
        if run.fault is None:
            self.flush()
        try:
            self._db("releasing messages", partial(
                store.release, self.engine, token, delivery_ids))
        except Exception as exc:
            # They stay `sending`: whoever takes the lease next requeues them.
            self._fault(run, exc)

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
                if run.fault is None and not run.lost:
                    self.release(run, token, [m.delivery_id for m in messages])
        for _ in range(run.workers):
            run.work.put(None)

    def _refill(self, run: _Run) -> None:
        """Keep one chunk ready per worker; when nothing is left, tell the workers."""
        if run.stop.is_set():
            return
        if not run.may_send():
            run.starved = True  # the lease is due for renewal: the heartbeat refills
            return
        cid = run.plan.campaign_id
        try:
            while run.in_flight < run.workers:
                token = uuid.uuid4().hex
                claimed = self._db("claiming messages", partial(
                    store.claim, self.engine, cid, token, run.chunk, owner=self.me))
                if not claimed:
                    break
                run.in_flight += 1
                run.work.put((token, claimed))
            if run.in_flight:
                return  # a chunk's completion will call back here
            wait = self._db("looking for retries", partial(
                store.seconds_until_due, self.engine, cid))
            if wait is None:
                # Nothing queued: an A/B test may still have its winner to choose.
                wait = self._ab_step(run)
        except store.LeaseLost:
            # Expired and taken over, or no longer running: the heartbeat says which.
            run.starved = True
            return
        except Exception as exc:
            self._fault(run, exc)
            return
        if wait is None:
            for _ in range(run.workers):
                run.work.put(None)  # done: every worker ends
        else:
            # Only retries waiting for their backoff: look again when the first is due.
            QTimer.singleShot(int(max(wait, 0.01) * 1000), self, lambda: self._refill(run))

    def _ab_step(self, run: _Run) -> float | None:
        """With the test share sent: once the wait is over, choose the winner and release
        the rest (then look again at once); else how long to wait. None: no winner to
        choose, the campaign is done."""
        cid = run.plan.campaign_id
        wait = self._db("checking the A/B test", partial(
            abtest.seconds_until_decision, self.engine, cid))
        if wait is None or wait > 0:
            # Looked at again at least every heartbeat, so a wait cut short is noticed.
            return None if wait is None else min(wait, self.owner.heartbeat)
        decision = self._db("choosing the A/B winner", partial(
            abtest.decide_winner, self.engine, cid, self.me))
        if decision is not None:
            log.info("campaign %s: A/B winner %s", cid, decision.reason)
            return 0.0
        # Not yet: test messages still without an outcome (they are being recorded).
        return self.owner.heartbeat

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
    def flush(self, force: bool = False) -> None:
        if self.timer is not None:
            self.timer.stop()
        if not self.buffer or (self.db_failing and not force):
            return
        batch, self.buffer = self.buffer, []
        # Progress goes out at most every PROGRESS_SECONDS a campaign: each report wakes the
        # GUI thread, which then competes with the workers for the GIL.
        now = time.monotonic()
        report = [cid for cid in {e.campaign_id for e in batch}
                  if force or now - self.reported.get(cid, 0.0) >= PROGRESS_SECONDS]
        for cid in report:
            self.reported[cid] = now

        def apply() -> list[CampaignCounts | None]:
            with self.engine.begin() as conn:
                store.apply_events(conn, batch)
                return [store.counts(conn, cid) for cid in report]

        try:
            snapshots = self._db("recording delivery outcomes", apply)
        except Exception as exc:
            # Keep the outcomes for the next try. Until then their rows stay `sending`,
            # which a later run resends safely under the same keys.
            self.buffer[:0] = batch
            for cid in {e.campaign_id for e in batch}:
                run = self.runs.get(cid)
                if run is not None:
                    self._fault(run, exc)
            self.db_failing = True
            return
        self.db_failing = False
        for snapshot in snapshots:
            if snapshot is not None:
                self.applied.emit(snapshot)

    @Slot(int)
    def settle(self, campaign_id: int) -> None:
        """The campaign's workers have all stopped: record what is left, then finish it
        and give its lease up (or, after a fault, pause it with the reason)."""
        run = self.runs.pop(campaign_id, None)
        self.waiting_for.pop(campaign_id, None)
        if run is not None:
            run.vendor.close()
        if run is not None and run.fault is not None:
            self.unrecorded[campaign_id] = (run, time.monotonic() + self.owner.fault_grace)
            self._ensure_heartbeat()
            self._record_fault(campaign_id)
            return
        self.flush(force=True)
        self.owner._mark_active(campaign_id, False)
        if run is not None and run.lost:
            self.buffer = [e for e in self.buffer if e.campaign_id != campaign_id]
            self.faulted.emit(campaign_id, "another process took the campaign over (this "
                              "one did not renew its lease in time)")
            self.settled.emit(campaign_id, "lost")
            return
        try:
            status = self._db("finishing the campaign", partial(
                store.finish_if_done, self.engine, campaign_id, self.me)) or ""
            snapshot = store.counts(self.engine, campaign_id)
        except Exception as exc:
            reason = describe_error(exc)
            log.info("campaign %s: could not settle: %s", campaign_id, reason, exc_info=True)
            self.faulted.emit(campaign_id, reason)
            self.settled.emit(campaign_id, "error")
            return
        if snapshot is not None:
            self.applied.emit(snapshot)
        if not self.runs:
            store.release_reserve(self.engine)  # made again by the next run
        self.settled.emit(campaign_id, status)
