"""The delivery workers: each takes claimed chunks from its run's queue, renders every
message, hands it to the vendor and publishes the outcomes as DeliveryEvents on the
engine's `events` signal (the writer records them; engine.py describes the whole).

A worker sends only while its run may: not stopped, and before the deadline the writer
sets at each lease renewal. What it cannot send goes back to the queue (released).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QRunnable

from ...models.base import utcnow
from ...models.campaign import Channel, DeliveryStatus
from . import store
from .email import compose_body, unsubscribe_url
from .events import DeliveryEvent
from .templates import Template
from .vendor import Message, Outcome, PendingBatch, Vendor

if TYPE_CHECKING:
    from .engine import DeliveryEngine

log = logging.getLogger(__name__)

# Messages claimed at a time (fewer for a small campaign: see handout.py). Each claim is a
# transaction (a sync to disk on MySQL) that also records the outcomes so far. 1,000 used
# less of the writer's CPU headless, but in the app (6 pairs each, SQLite) it sent no faster
# and the GUI thread's stalls were longer (median 36 ms on the campaign's page against 28).
CHUNK = 500
PUBLISH_EVERY = 125
PUBLISH_SECONDS = 0.1
# How many of a run's workers send at once adapts to the vendor. While it answers at once
# (a group's answers mostly under SLOW_ANSWER_SECONDS), sending is CPU work under the GIL:
# more threads add nothing but queue for it, the writer and the GUI thread among them
# (each waits up to a switch interval per thread ahead of it). FEW_WORKERS then send —
# two, so one renders while the other waits for the ledger. Once answers take longer
# (network latency), every worker sends, to keep that many messages in flight.
FEW_WORKERS = 2
SLOW_ANSWER_SECONDS = 0.002
_Chunk = tuple[str, list[store.ClaimedRow]]  # (claim token, rows as claimed)
_SENT = DeliveryStatus.SENT.value
_QUEUED = DeliveryStatus.QUEUED.value
_FAILED = DeliveryStatus.FAILED.value
_EMAIL = Channel.EMAIL.value


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
    # Workers allowed to send now (the rest wait on `wake`): see FEW_WORKERS.
    sending: int = FEW_WORKERS
    ending: bool = False  # told to end: all workers stay awake
    wake: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.sending = min(self.workers, FEW_WORKERS)

    def adapt(self, slow: bool) -> bool:
        """A group's answers were mostly slow (or not): set how many workers send. True
        when more may send now (the writer then hands out more work)."""
        want = self.workers if slow else min(self.workers, FEW_WORKERS)
        if want == self.sending or self.ending:
            return False
        self.sending = want
        if want < self.workers:
            return False
        self.wake_all()
        return True

    def wake_all(self, ending: bool = False) -> None:
        """Every worker takes work again: more are needed, or (`ending`) the run ends and
        each must take its None from the queue."""
        self.ending = self.ending or ending
        self.sending = self.workers
        with self.wake:
            self.wake.notify_all()

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


class _Worker(QRunnable):
    def __init__(self, owner: DeliveryEngine, run: _Run, index: int) -> None:
        super().__init__()
        self.owner = owner
        self.run_state = run
        self.index = index

    def run(self) -> None:
        run = self.run_state
        try:
            while not run.stop.is_set():
                if self.index >= run.sending:
                    with run.wake:  # not needed now: see FEW_WORKERS
                        if self.index >= run.sending and not run.stop.is_set():
                            run.wake.wait(0.5)
                    continue
                try:
                    chunk = run.work.get(timeout=0.5)
                except queue.Empty:
                    continue
                if chunk is None:
                    return  # the writer says nothing is left
                token, rows = chunk
                try:
                    # Made here, not by the writer the workers wait for.
                    self._send(token, store.messages(rows))
                finally:
                    self.owner._chunk_done.emit(run)
        except Exception:
            log.exception("delivery worker for campaign %s failed", run.plan.campaign_id)
        finally:
            self.owner._worker_exited(run)

    def _send(self, token: str, claimed: list[store.ClaimedMessage]) -> None:
        """Send a chunk, handing the vendor's answers to its ledger in groups of up to
        PUBLISH_EVERY (one hand-over between threads a group, not one a message)."""
        run = self.run_state
        vendor, bucket = run.vendor, run.bucket
        group: list[store.ClaimedMessage] = []
        answered: list[tuple[Message, Outcome]] = []
        published = time.monotonic()
        slow = 0  # answers of the group that took SLOW_ANSWER_SECONDS or more
        clock = time.perf_counter
        for index, msg in enumerate(claimed):
            if not run.may_send() or (
                bucket is not None and (not bucket.wait(run.stop) or not run.may_send())
            ):
                # Paused, cancelled, or the lease not renewed in time: the rest goes back.
                self.owner._release.emit(run, token, [m.delivery_id for m in claimed[index:]])
                break
            message = _message(run, msg)
            asked = clock()
            answered.append((message, vendor.answer(message)))
            slow += clock() - asked >= SLOW_ANSWER_SECONDS
            group.append(msg)
            # Publish in groups, and at least every PUBLISH_SECONDS when sending is slow.
            if len(group) >= PUBLISH_EVERY or time.monotonic() - published > PUBLISH_SECONDS:
                self._hand_over(token, group, answered, slow)
                group, answered = [], []
                published = time.monotonic()
                slow = 0
        if group:
            self._hand_over(token, group, answered, slow)

    def _hand_over(self, token: str, group: list[store.ClaimedMessage],
                   answered: list[tuple[Message, Outcome]], slow: int) -> None:
        """A group's answers to the ledger, then its outcomes to the writer; how many
        workers send follows how fast the vendor answered the group."""
        run = self.run_state
        if run.adapt(slow * 2 > len(group)):
            self.owner._more.emit(run)
        self._publish(token, group, run.vendor.record(answered))

    def _publish(self, token: str, group: list[store.ClaimedMessage],
                 pending: PendingBatch) -> None:
        """Wait for the ledger to make the group's outcomes final; publish them as delivery
        events (dated once for the group: they were learned together)."""
        plan = self.run_state.plan
        outcomes = pending.result()
        now = utcnow()
        max_attempts, cid = plan.max_attempts, plan.campaign_id
        retry_base = self.owner.retry_base_seconds
        events: list[DeliveryEvent] = []
        for msg, outcome in zip(group, outcomes, strict=True):
            attempt = msg.attempts + 1
            retry_at = None
            if outcome.sent:
                status = _SENT
            elif outcome.transient and attempt < max_attempts:
                status = _QUEUED
                retry_at = now + timedelta(seconds=retry_base * 2 ** (attempt - 1))
            else:
                status = _FAILED
            events.append(
                DeliveryEvent(cid, msg.delivery_id, msg.customer_id, msg.variant, token,
                              status, outcome.reason, attempt, now, retry_at,
                              outcome.opened if outcome.sent else None)
            )
        self.owner.events.emit(events)


def _message(run: _Run, msg: store.ClaimedMessage) -> Message:
    """The message as the recipient gets it: an email with its subject, sender and footer,
    and its own unsubscribe link (the same on every attempt: it derives from the key)."""
    plan = run.plan
    fields = dict(msg.customer)
    if plan.channel == _EMAIL:
        fields["unsubscribe_url"] = unsubscribe_url(plan.link_secret, msg.key)
    body = compose_body(run.templates[msg.variant], run.footer, fields)
    return Message(
        msg.key, plan.campaign_id, plan.channel, msg.address, body, msg.attempts + 1,
        subject=run.subject.render(fields) if run.subject else None,
        sender=plan.sender,
    )
