"""Module-level jobs for the helper-process tests (a spawned process imports them)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def count_until_cancelled(limit: int, *, progress: Callable[..., None],
                          should_cancel: Callable[[], bool]) -> int:
    done = 0
    pause = threading.Event()
    while done < limit and not should_cancel():
        done += 1
        progress(done)
        pause.wait(0.01)  # a slice of work in the helper process
    return done


def fail(message: str, *, progress: Callable[..., None],
         should_cancel: Callable[[], bool]) -> None:
    raise ValueError(message)
