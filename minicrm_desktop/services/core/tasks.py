"""The one way to run work off the GUI thread.

`TaskRunner.run(fn)` runs `fn(ctx)` on a QThreadPool; its result, error and progress come
back through queued signals, so every callback runs on the GUI thread. The function gets a
`TaskContext` to report progress and to check for cancellation. Tasks must open their own
database connection or session and return plain data (never ORM objects): nothing a task
touches is shared with the GUI thread.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from queue import Empty
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, QThreadPool, Signal, Slot

from minicrm_desktop.services.core.bus import EventBus

if TYPE_CHECKING:
    from sqlalchemy import Engine

T = TypeVar("T")
log = logging.getLogger(__name__)
_ids = itertools.count(1)


class TaskCancelled(Exception):
    """Raised by `TaskContext.check_cancelled()` to stop a task early."""


class TaskContext:
    """What a running task sees: its cancel flag and a way to report progress."""

    def __init__(self, relay: _Relay) -> None:
        self._relay = relay
        self._cancel = threading.Event()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise TaskCancelled

    def progress(self, fraction: float, text: str = "") -> None:
        """Report progress (0..1, or -1 when unknown). Safe from the worker thread."""
        self._relay.progressed.emit(float(fraction), text)

    def partial(self, value: object) -> None:
        """Hand an intermediate result (plain data) to the GUI thread."""
        self._relay.partial.emit(value)


class _Relay(QObject):
    """Signals emitted from the worker; lives on the GUI thread, so they arrive queued."""

    done = Signal(object, object)  # (result, exception or None)
    progressed = Signal(float, str)
    partial = Signal(object)


class TaskHandle(QObject, Generic[T]):
    """A running task as the GUI thread sees it. All signals arrive on the GUI thread."""

    succeeded = Signal(object)
    failed = Signal(object)  # the exception
    progressed = Signal(float, str)
    partial = Signal(object)
    #: Always emitted last, after succeeded or failed (or after a cancelled task ends).
    finished = Signal()

    def __init__(self, task_id: int, title: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.task_id = task_id
        self.title = title
        self.quiet = False
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None
        self._relay = _Relay()
        self.context = TaskContext(self._relay)
        queued = Qt.ConnectionType.QueuedConnection
        self._relay.done.connect(self._on_done, queued)
        self._relay.progressed.connect(self._on_progress, queued)
        self._relay.partial.connect(self._on_partial, queued)

    def cancel(self) -> None:
        """Ask the task to stop; it ends at its next check. Results still arrive, and
        `is_cancelled` tells the receiver to treat them as stale."""
        self.context._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self.context.cancelled()

    @Slot(float, str)
    def _on_progress(self, fraction: float, text: str) -> None:
        if not self.done:
            self.progressed.emit(fraction, text)

    @Slot(object)
    def _on_partial(self, value: object) -> None:
        if not self.done:
            self.partial.emit(value)

    @Slot(object, object)
    def _on_done(self, result: Any, error: BaseException | None) -> None:
        self.done = True
        if error is None:
            self.result = result
            self.succeeded.emit(result)
        else:
            self.error = error
            self.failed.emit(error)
        self.finished.emit()


def _runnable(fn: Callable[[TaskContext], Any], handle: TaskHandle[Any]) -> Callable[[], None]:
    """The pool's work item: a plain closure (PySide wraps it in a QRunnable it owns)."""
    context, relay = handle.context, handle._relay

    def run() -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            if context.cancelled():
                raise TaskCancelled
            result = fn(context)
        except BaseException as exc:  # every failure must reach the GUI thread
            error = exc
        relay.done.emit(result, error)

    return run


def _owner_alive(callback: Callable[..., Any]) -> bool:
    """False when the callback works on a widget that has since been destroyed (a page
    closed while its task ran): its result has nowhere to go. The widget is the bound
    method's object, or any Qt object a lambda closes over (`lambda d: self._show(d)`)."""
    owners = [getattr(callback, "__self__", None)]
    owners += [_cell(cell) for cell in getattr(callback, "__closure__", None) or ()]
    return all(shiboken6.isValid(o) for o in owners if isinstance(o, QObject))


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # a cell not yet filled
        return None


class TaskRunner(QObject):
    """Runs tasks on its own thread pool and keeps the bus informed for the status bar."""

    def __init__(
        self, bus: EventBus, *, max_threads: int = 4, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._bus = bus
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._active: dict[int, TaskHandle[Any]] = {}
        self._closed = False

    def run(
        self,
        fn: Callable[[TaskContext], T],
        *,
        title: str = "",
        on_success: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
        quiet: bool = False,
    ) -> TaskHandle[T]:
        """Start `fn(ctx)` in the pool. Callbacks run on the GUI thread.

        Without `on_error`, an error other than cancellation goes to `sys.excepthook`
        (which shows the error dialog). `quiet` tasks do not appear in the status bar.
        """
        if self._closed:
            raise RuntimeError("the task runner has shut down")
        handle: TaskHandle[T] = TaskHandle(next(_ids), title, self)
        handle.quiet = quiet
        if on_success is not None:
            success = on_success
            handle.succeeded.connect(lambda result: success(result) if _owner_alive(success)
                                     else None)
        if on_progress is not None:
            handle.progressed.connect(on_progress)
        handle.failed.connect(lambda exc: self._on_failed(exc, on_error))
        handle.finished.connect(lambda: self._on_finished(handle, quiet))
        if not quiet:
            handle.progressed.connect(
                lambda fraction, text: self._bus.task_progress.emit(handle.task_id, fraction, text)
            )
        self._active[handle.task_id] = handle
        if not quiet:
            self._bus.task_started.emit(handle.task_id, title)
        self._pool.start(_runnable(fn, handle))
        return handle

    def _on_failed(
        self, exc: BaseException, on_error: Callable[[BaseException], None] | None
    ) -> None:
        if on_error is not None:
            if _owner_alive(on_error):
                on_error(exc)
        elif not isinstance(exc, TaskCancelled):
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def _on_finished(self, handle: TaskHandle[Any], quiet: bool) -> None:
        self._active.pop(handle.task_id, None)
        if not quiet:
            self._bus.task_finished.emit(handle.task_id)
        handle.deleteLater()

    @property
    def closed(self) -> bool:
        """Shut down (the window is closing): nothing new may start."""
        return self._closed

    @property
    def active_count(self) -> int:
        """Tasks started whose results have not yet been delivered."""
        return len(self._active)

    def active_titles(self) -> list[str]:
        """Titles of the running tasks the user knows about (not quiet ones)."""
        return [h.title for h in self._active.values() if not h.quiet]

    def cancel_all(self) -> None:
        for handle in list(self._active.values()):
            handle.cancel()

    def wait_for_done(self, timeout_ms: int = -1) -> bool:
        return bool(self._pool.waitForDone(timeout_ms))

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel every task and wait for the pool; no task outlives the window."""
        self._closed = True
        self.cancel_all()
        finished = self.wait_for_done(timeout_ms)
        if not finished:
            log.warning("background tasks still running after %d ms at shutdown", timeout_ms)
        return finished


# --- long CPU-heavy jobs in a helper process -------------------------------------------
#
# A thread in the GUI process only takes turns with the GUI thread for the GIL: a batch of
# Python work there (CSV parsing, demo data) freezes the window for tens to hundreds of
# milliseconds. In a child process the work runs on another core while the pool thread
# merely waits on a queue with the GIL released. Progress comes back through the queue,
# cancellation goes down through an Event, the result (plain picklable data) or the
# exception comes back at the end. Use it inside a task: `runner.run(lambda ctx:
# run_in_process(job, args, progress=..., should_cancel=ctx.cancelled))`.

ProgressSink = Callable[..., None]
_POLL_S = 0.1
_JOIN_S = 30.0


def _child(target: Callable[..., Any], args: tuple[Any, ...], queue: Any, cancel: Any) -> None:
    if hasattr(os, "nice"):
        os.nice(10)  # background work yields the CPU to the window the user is in

    def progress(*values: Any) -> None:
        queue.put(("progress", values))

    try:
        result = target(*args, progress=progress, should_cancel=cancel.is_set)
    except BaseException as exc:  # handed to the parent, which raises it
        try:
            queue.put(("error", exc))
        except Exception:  # not picklable: say what it was
            queue.put(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        return
    queue.put(("done", result))


def run_in_process(
    target: Callable[..., Any],
    args: tuple[Any, ...],
    *,
    progress: ProgressSink | None = None,
    should_cancel: Callable[[], bool] | None = None,
    name: str = "minicrm-job",
) -> Any:
    """Run `target(*args, progress=..., should_cancel=...)` in a spawned process and return
    its result. `target` must be a module-level function and `args` picklable."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    cancel = ctx.Event()
    # Not a daemon: the job may start helper processes of its own.
    process = ctx.Process(target=_child, args=(target, args, queue, cancel), name=name)
    process.start()
    try:
        while True:
            if should_cancel is not None and should_cancel():
                cancel.set()
            try:
                kind, payload = queue.get(timeout=_POLL_S)
            except Empty:
                if not process.is_alive():
                    raise RuntimeError(
                        f"the {name} process stopped unexpectedly (exit code {process.exitcode})"
                    ) from None
                continue
            if kind == "progress":
                if progress is not None:
                    progress(*payload)
            elif kind == "error":
                raise payload
            else:
                return payload
    finally:
        cancel.set()
        process.join(_JOIN_S)
        if process.is_alive():
            process.terminate()
            process.join()
        queue.close()


# --- the engine a job's helper process opens (the jobs live with their features) --------


def job_engine(url: str) -> Engine:
    """A helper process's engine, with the TLS the app's own engine has (the settings file,
    overridden by the environment): its password must not go out in clear either."""
    from sqlalchemy.engine import make_url

    from minicrm_desktop.services.core.database import MysqlTls, create_db_engine, is_sqlite
    from minicrm_desktop.services.core.settings import QSettingsStore, Settings

    parsed = make_url(url)
    tls = None if is_sqlite(parsed) else MysqlTls.configured(Settings(QSettingsStore()))
    return create_db_engine(parsed, tls=tls)
