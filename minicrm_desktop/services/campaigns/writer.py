"""The delivery writer: the one thread of a process that writes delivery state (engine.py
describes the whole). It starts and stops runs, keeps their leases, claims work for the
workers (handout.py), records their outcomes in batches and settles finished runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from minicrm_desktop.services.core.heap import freeze_long_lived
from minicrm_desktop.services.core.retry import with_retries

from ...models.campaign import CampaignStatus
from ..access.actor import Actor
from ..access.audit import Action
from . import faults, handout, store
from .events import CampaignCounts, DeliveryEvent
from .faults import describe_error
from .templates import parse_template
from .vendor import Vendor
from .worker import _Pacer, _Run, _Worker

if TYPE_CHECKING:
    from .engine import DeliveryEngine

log = logging.getLogger(__name__)

# Outcomes are recorded with the next claim when a chunk is done (one commit for both);
# alone only when this many wait, or after FLUSH_MS (slow sending), or at the end.
FLUSH_EVERY = 2000
FLUSH_MS = 250
PROGRESS_SECONDS = 0.25
T = TypeVar("T")


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
        # The app's state lives through the run: full collections skip it (core/heap.py).
        freeze_long_lived()
        self.runs[campaign_id] = run
        owner._mark_active(campaign_id, True)
        self._ensure_heartbeat()
        for index in range(owner.workers):
            owner.pool.start(_Worker(owner, run, index))
        handout.begin(self, run)

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
            handout.halt(self, run)

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
            faults.record_fault(self, campaign_id)
        if not (self.runs or self.waiting_for or self.unrecorded) and self.heartbeat:
            self.heartbeat.stop()

    def _renew(self, run: _Run) -> None:
        cid = run.plan.campaign_id
        started = time.monotonic()
        try:
            status = self._db("renewing the delivery lease", partial(
                store.renew_lease, self.engine, cid, self.me, self.owner.lease_ttl))
        except Exception as exc:
            faults.fault(self, run, exc)
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
                handout.refill(self, run)

    # -- work handed out (handout.py claims it) ---------------------------------------

    @Slot(object)
    def chunk_done(self, run: _Run) -> None:
        run.in_flight -= 1
        # The next claim records the outcomes so far in its own transaction (claim_next),
        # before it reads the queue: a retry is due again before it is claimed.
        handout.refill(self, run)
        self.flush()  # what no claim took (the run is stopping, waiting or done)

    def claim_next(self, run: _Run, token: str) -> list[store.ClaimedRow]:
        """Claim the run's next chunk, recording the outcomes buffered so far in the same
        transaction: one commit instead of two. Raises LeaseLost (the outcomes recorded).
        The rows go to a worker as read: it makes its messages of them (claims.messages)."""
        cid = run.plan.campaign_id
        if not self.buffer or self.db_failing:
            return self._db("claiming messages", partial(
                store.claim_rows, self.engine, cid, token, run.chunk, owner=self.me))
        batch, report = self._take_buffer(force=False)
        try:
            snapshots, claimed = self._db("recording outcomes and claiming messages", partial(
                store.record_and_take, self.engine, batch, report, cid, token, run.chunk,
                self.me))
        except Exception as exc:
            self._unrecorded(batch, exc)
            raise
        self._recorded(snapshots)
        if claimed is None:
            raise store.LeaseLost(f"campaign {cid}: the delivery lease is no longer held")
        return claimed

    @Slot(object)
    def more(self, run: _Run) -> None:
        """More workers send now (the vendor answers slowly): a chunk ready for each."""
        if run.plan.campaign_id in self.runs:
            handout.refill(self, run)
            self.flush()

    @Slot(object, str, object)
    def release(self, run: _Run, token: str, delivery_ids: list[int]) -> None:
        if run.fault is None:
            self.flush()
        try:
            self._db("releasing messages", partial(
                store.release, self.engine, token, delivery_ids))
        except Exception as exc:
            # They stay `sending`: whoever takes the lease next requeues them.
            faults.fault(self, run, exc)

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
        if not self.buffer or (self.db_failing and not force):
            if self.timer is not None:
                self.timer.stop()
            return
        batch, report = self._take_buffer(force)

        def apply() -> list[CampaignCounts | None]:
            with self.engine.begin() as conn:
                store.apply_events(conn, batch)
                return [store.counts(conn, cid) for cid in report]

        try:
            snapshots = self._db("recording delivery outcomes", apply)
        except Exception as exc:
            self._unrecorded(batch, exc)
            return
        self._recorded(snapshots)

    def _take_buffer(self, force: bool) -> tuple[list[DeliveryEvent], list[int]]:
        """The buffered outcomes, to be recorded now, and the campaigns whose progress
        goes out with them."""
        if self.timer is not None:
            self.timer.stop()
        batch, self.buffer = self.buffer, []
        # Progress goes out at most every PROGRESS_SECONDS a campaign: each report wakes the
        # GUI thread, which then competes with the workers for the GIL.
        now = time.monotonic()
        report = [cid for cid in {e.campaign_id for e in batch}
                  if force or now - self.reported.get(cid, 0.0) >= PROGRESS_SECONDS]
        for cid in report:
            self.reported[cid] = now
        return batch, report

    def _unrecorded(self, batch: list[DeliveryEvent], exc: BaseException) -> None:
        # Keep the outcomes for the next try. Until then their rows stay `sending`,
        # which a later run resends safely under the same keys.
        self.buffer[:0] = batch
        for cid in {e.campaign_id for e in batch}:
            run = self.runs.get(cid)
            if run is not None:
                faults.fault(self, run, exc)
        self.db_failing = True

    def _recorded(self, snapshots: list[CampaignCounts | None]) -> None:
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
            faults.record_fault(self, campaign_id)
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
