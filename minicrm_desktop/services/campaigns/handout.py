"""Handing out work: the writer claims chunks for its run's workers, one ready per worker,
and tells them when nothing is left (or lets them wait for retries and an A/B decision).
Functions of the writer (writer.py), run on its thread.
"""

from __future__ import annotations

import logging
import queue
import uuid
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from . import abtest, faults, store
from .worker import CHUNK, _Run

if TYPE_CHECKING:
    from .writer import _Writer

log = logging.getLogger(__name__)

MIN_CHUNK = 10


def begin(writer: _Writer, run: _Run) -> None:
    # Small campaigns get small chunks, so every worker has a share to send.
    try:
        queued = writer._db("counting queued messages", partial(
            store.queued_count, writer.engine, run.plan.campaign_id))
    except Exception as exc:
        faults.fault(writer, run, exc)
        return
    run.chunk = max(MIN_CHUNK, min(CHUNK, queued // (2 * run.workers) or MIN_CHUNK))
    refill(writer, run)


def halt(writer: _Writer, run: _Run) -> None:
    """Stopping: chunks not yet started go back to the queue; workers are told to end."""
    while True:
        try:
            chunk = run.work.get_nowait()
        except queue.Empty:
            break
        if chunk is not None:
            run.in_flight -= 1
            token, rows = chunk
            if run.fault is None and not run.lost:
                writer.release(run, token, [row[0] for row in rows])  # their ids
    for _ in range(run.workers):
        run.work.put(None)
    run.wake_all(ending=True)  # waiting workers too: each takes its None and ends


def refill(writer: _Writer, run: _Run) -> None:
    """Keep one chunk ready per worker; when nothing is left, tell the workers."""
    if run.stop.is_set():
        return
    if not run.may_send():
        run.starved = True  # the lease is due for renewal: the heartbeat refills
        return
    cid = run.plan.campaign_id
    try:
        # A chunk ready beyond those being sent, so a worker done with one never waits.
        while run.in_flight < min(run.workers, run.sending + 1):
            token = uuid.uuid4().hex
            claimed = writer.claim_next(run, token)
            if not claimed:
                break
            run.in_flight += 1
            run.work.put((token, claimed))
        if run.in_flight:
            return  # a chunk's completion will call back here
        wait = writer._db("looking for retries", partial(
            store.seconds_until_due, writer.engine, cid))
        if wait is None:
            # Nothing queued: an A/B test may still have its winner to choose.
            wait = ab_step(writer, run)
    except store.LeaseLost:
        # Expired and taken over, or no longer running: the heartbeat says which.
        run.starved = True
        return
    except Exception as exc:
        faults.fault(writer, run, exc)
        return
    if wait is None:
        for _ in range(run.workers):
            run.work.put(None)  # done: every worker ends
        run.wake_all(ending=True)
    else:
        # Only retries waiting for their backoff: look again when the first is due.
        QTimer.singleShot(int(max(wait, 0.01) * 1000), writer, lambda: refill(writer, run))


def ab_step(writer: _Writer, run: _Run) -> float | None:
    """With the test share sent: once the wait is over, choose the winner and release
    the rest (then look again at once); else how long to wait. None: no winner to
    choose, the campaign is done."""
    cid = run.plan.campaign_id
    wait = writer._db("checking the A/B test", partial(
        abtest.seconds_until_decision, writer.engine, cid))
    if wait is None or wait > 0:
        # Looked at again at least every heartbeat, so a wait cut short is noticed.
        return None if wait is None else min(wait, writer.owner.heartbeat)
    decision = writer._db("choosing the A/B winner", partial(
        abtest.decide_winner, writer.engine, cid, writer.me))
    if decision is not None:
        log.info("campaign %s: A/B winner %s", cid, decision.reason)
        return 0.0
    # Not yet: test messages still without an outcome (they are being recorded).
    return writer.owner.heartbeat
