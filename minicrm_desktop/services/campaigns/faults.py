"""Faults: a database step that failed after its retries stops its run, and the campaign
is paused with the reason once the run's workers have stopped. Functions of the writer
(writer.py), run on its thread.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import TYPE_CHECKING

from . import store
from .worker import _Run

if TYPE_CHECKING:
    from .writer import _Writer

log = logging.getLogger(__name__)


def describe_error(exc: BaseException) -> str:
    """One line for a user: the driver's message, not SQLAlchemy's wrapping."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).splitlines() or [type(cause).__name__])[0]
    if tuple(getattr(cause, "args", ())) == (0, ""):  # PyMySQL on a connection already cut
        first = "Lost connection to the database server"
    return f"database error: {first}"[: store.REASON_LEN]


def fault(writer: _Writer, run: _Run, exc: BaseException) -> None:
    """A database step failed after its retries: stop the run; once its workers have
    stopped, the campaign is paused with the reason (see settle)."""
    writer.db_failing = True
    if run.fault is None and not run.lost:
        run.fault = describe_error(exc)
        # One entry with the traceback in the log; the user sees the one-line reason.
        log.info("campaign %s stopped: %s", run.plan.campaign_id, run.fault, exc_info=True)
    writer._stop_run(run)


def record_fault(writer: _Writer, campaign_id: int) -> None:
    """Pause the stopped run's campaign with the reason, then record what its workers
    learned; retried every heartbeat until the database answers or the grace period
    ends. Outcomes left unrecorded keep their rows `sending`: resent under the same key."""
    run, give_up_at = writer.unrecorded[campaign_id]
    reason = run.fault or ""
    store.release_reserve(writer.engine)  # a full disk leaves room for the pause
    try:
        status = writer._db("pausing the campaign", partial(
            store.pause_for_fault, writer.engine, campaign_id, writer.me, reason))
    except Exception:
        if time.monotonic() < give_up_at:
            return
        log.info("campaign %s: the pause could not be recorded", campaign_id, exc_info=True)
        status, reason = "running", (
            f"{reason}; it could not be marked paused (its lease expires by itself)")
    writer.flush(force=True)
    del writer.unrecorded[campaign_id]
    writer.buffer = [e for e in writer.buffer if e.campaign_id != campaign_id]
    writer.owner._mark_active(campaign_id, False)
    writer.faulted.emit(campaign_id, reason)
    writer.settled.emit(campaign_id, status or "running")
