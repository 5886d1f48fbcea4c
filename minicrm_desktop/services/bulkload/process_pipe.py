"""Producing work in a helper process while this one consumes it.

CPU-bound Python in a second thread only takes turns with the first (the GIL); a second
process runs on the second core. Large imports parse and validate CSV there, and demo data
is generated there, while this process writes to the database.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from queue import Empty
from typing import Any, TypeVar

T = TypeVar("T")
_DEPTH = 2  # items produced ahead: enough to keep both processes busy, memory stays flat


class _Failure:
    """An exception raised in the helper process, carried across as text."""

    def __init__(self, exc: BaseException) -> None:
        self.type = type(exc)
        self.message = str(exc)
        self.exc = exc

    def reraise(self) -> None:
        raise self.exc


def _produce(make: Callable[..., Iterable[Any]], args: tuple[Any, ...], out: Any) -> None:
    try:
        for item in make(*args):
            out.put(item)
    except BaseException as exc:  # handed to the consumer, which raises it
        try:
            out.put(_Failure(exc))
        except Exception:  # not picklable: say what it was
            out.put(_Failure(RuntimeError(f"{type(exc).__name__}: {exc}")))
        return
    out.put(None)


@contextmanager
def produced_in_helper(
    make: Callable[..., Iterable[T]], *args: Any, name: str = "minicrm-helper"
) -> Iterator[Iterator[T]]:
    """Iterate over `make(*args)` run in a helper process. `make` and its arguments must be
    picklable (module-level functions, plain data). Leaving the block early stops it."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue(maxsize=_DEPTH)
    process = ctx.Process(target=_produce, args=(make, args, queue), name=name, daemon=True)
    process.start()

    def receive() -> Iterator[T]:
        while True:
            try:
                item = queue.get(timeout=1.0)
            except Empty:
                if not process.is_alive():
                    raise RuntimeError(f"the {name} process stopped unexpectedly") from None
                continue
            if item is None:
                return
            if isinstance(item, _Failure):
                item.reraise()
            yield item

    try:
        yield receive()
    finally:
        if process.is_alive():
            process.terminate()
        process.join()
        queue.close()
        queue.join_thread()
