"""The delivery engine: workers on a QThreadPool send, one writer records, the bus listens.

One thread — the writer — is the only one in this process that writes delivery state. It
claims chunks of queued deliveries and hands them to the workers through a queue; workers
render each message, hand it to the vendor, and publish every outcome as a `DeliveryEvent`
on the engine's `events` signal (the pub-sub bus). The writer consumes those events and
applies them in batches, one UPDATE per kind of outcome — with the next claim when a chunk is
done (one transaction for both), else every FLUSH_EVERY events or FLUSH_MS milliseconds — then
publishes the campaign's counters on `progress`
(at most every PROGRESS_SECONDS: each report wakes the GUI thread). Views subscribe to it
for live progress. A single writer keeps SQLite's one write lock uncontended and
MySQL free of deadlocks between claims and outcomes. QtCore only: the CLI runs this on a
QCoreApplication.

A run holds its campaign's lease (lease.py): the writer renews it every heartbeat and
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

Where it lives: this module is the engine's face (control calls and signals); worker.py the
workers; writer.py the writer, with handout.py (claiming work) and faults.py; the storage
steps are in store.py and the modules it gathers (claims, lease, outcomes).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, QThreadPool, Signal, Slot
from sqlalchemy import Engine

from ...errors import ConfigError
from ..access.actor import Actor, Permission, require
from .worker import _Run
from .writer import _Writer

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
    _more = Signal(object)  # _Run: more of its workers send now
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
        self._shut_down = False
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
        self._more.connect(self._writer.more, queued)
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

    def running(self) -> list[int]:
        """The campaigns this process sends (or waits to send), by id."""
        with self._active_lock:
            return sorted(self._active)

    def shutdown(self) -> None:
        """Stop every run, wait for the workers, record what they learned, stop the writer.
        Only the first call does anything."""
        if self._shut_down:
            return
        self._shut_down = True
        blocking = Qt.ConnectionType.BlockingQueuedConnection
        QMetaObject.invokeMethod(self._writer, "stop_all", blocking)
        self.pool.waitForDone()
        # Everything the workers published is applied before the writer's thread ends.
        QMetaObject.invokeMethod(self._writer, "close_all", blocking)
        # The writer (with its timers) is deleted on its own thread as that thread ends, and
        # its back-reference to this engine goes: left to the garbage collector, the cycle
        # engine <-> writer could be collected on any thread that happens to allocate —
        # another engine's writer in the middle of a query — deleting Qt objects of a thread
        # not its own (a rare segfault in the tests).
        self._writer.deleteLater()
        self._writer_thread.quit()
        self._writer_thread.wait()
        del self._writer.owner

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
