"""The garbage collector's policy: paused for the start, and full passes kept short while a
campaign sends or an import runs.

CPython's cyclic collector walks every tracked object of the oldest generation in a full
pass, holding the GIL throughout. The app's own state — SQLAlchemy, Qt's wrappers, the
loaded pages — is a few hundred thousand objects, and a campaign promotes many short-lived
ones (messages in flight, outcome events) into the oldest generation, so full passes come
every few seconds and each one froze every thread, the GUI's included, for 100–450 ms
(benchmarks/delivery.py, measured with gc.callbacks). Moving the objects alive at start-up
and at each run's start into the permanent generation (`gc.freeze`) leaves a full pass only
the objects made since: a few milliseconds.

The price: cyclic garbage that exists at the moment of a freeze is never collected. Each
freeze first collects the young generations, where nearly all such garbage is, so what
stays is bounded by what the last full pass had not yet reached. Measured (2026-12-03, one
app launching 2, 8 and 16 campaigns in turn, then `gc.unfreeze(); gc.collect()`): the same
~10,200 garbage objects each time, start-up's (frozen by `resume_gc` without a pass, which
would cost the GUI thread a walk of everything start-up made); launches add none.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def freeze_long_lived() -> None:
    """Exempt the objects alive now from later full collections (see the module's text)."""
    gc.collect(1)
    gc.freeze()


# Young-generation threshold while a bulk job runs (CPython's default is 700).
BULK_YOUNG_THRESHOLD = 10_000
_bulk_lock = threading.Lock()
_bulk_jobs = 0
_saved_threshold: tuple[int, int, int] | None = None


@contextmanager
def bulk_allocations(young: int = BULK_YOUNG_THRESHOLD) -> Iterator[None]:
    """For a job that makes many short-lived containers (an import: each row is a few dicts
    and lists that live until its batch is written). With the default thresholds they
    outlive young passes, reach the oldest generation and make full passes walk them and
    all of the process's state: about 1 s of a 100,000-row import's 3.5 s CPU (measured with
    gc.callbacks). The state alive now is frozen (`freeze_long_lived`) and young passes come
    every `young` allocations instead of 700, so most rows die before a pass sees them
    (0.3 s). Process-wide, so nested or concurrent jobs share one setting, restored when
    the last ends."""
    global _bulk_jobs, _saved_threshold
    with _bulk_lock:
        if _bulk_jobs == 0:
            freeze_long_lived()
            now = gc.get_threshold()
            _saved_threshold = (now[0], now[1], now[2])
            gc.set_threshold(max(young, now[0]), now[1], now[2])
        _bulk_jobs += 1
    try:
        yield
    finally:
        with _bulk_lock:
            _bulk_jobs -= 1
            if _bulk_jobs == 0 and _saved_threshold is not None:
                gc.set_threshold(*_saved_threshold)
                _saved_threshold = None


# --- start-up: the collector paused until the window is painted --------------------------

_gc_paused = False


def pause_gc_for_start() -> None:
    """Turn the cyclic garbage collector off while the app starts. Start-up creates some
    hundreds of thousands of long-lived objects (modules, classes, Qt wrappers), and the
    collector would walk them again and again: about a tenth of the CPU time to the first
    paint. `resume_gc()` turns it back on (the window once painted, a command at once)."""
    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True


def resume_gc() -> None:
    """Undo `pause_gc_for_start()` (nothing if it did not pause the collector). What
    start-up made is moved out of the collector's sight first (`gc.freeze`): it lives as
    long as the process, and later full collections then need not walk it, which keeps
    their pauses of the GUI thread short."""
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.freeze()
        gc.enable()
