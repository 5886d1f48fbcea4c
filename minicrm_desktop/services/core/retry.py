"""Retrying a transaction that lost a lock race (deadlock victim, lock wait timeout, busy)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError

T = TypeVar("T")
log = logging.getLogger(__name__)

# MySQL/MariaDB: 1213 deadlock, 1205 lock wait timeout. SQLite: "database is locked".
_RETRYABLE_CODES = {1213, 1205}
ATTEMPTS = 6


def is_retryable(exc: OperationalError) -> bool:
    orig = exc.orig
    args = getattr(orig, "args", ())
    if args and args[0] in _RETRYABLE_CODES:
        return True
    return "database is locked" in str(orig)


def with_retries(work: Callable[[], T], what: str) -> T:
    """Run `work` (which opens and commits its own transaction), again if it lost a race.
    The database rolled the loser back, so running it again is safe."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return work()
        except OperationalError as exc:
            if attempt == ATTEMPTS or not is_retryable(exc):
                raise
            log.info("%s: retrying after %s", what, str(exc.orig).splitlines()[0])
            time.sleep(0.01 * 2**attempt)  # back off so the winner can finish
    raise AssertionError("unreachable")
