"""One AI request at a time from a panel: started in the pool, cancellable, its answer or
error delivered only if it is still the request the panel waits for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from minicrm_desktop.services.ai import Cancelled
from minicrm_desktop.services.core.tasks import TaskCancelled, TaskContext, TaskHandle, TaskRunner

T = TypeVar("T")


class AIRequest(Generic[T]):
    def __init__(self, runner: TaskRunner) -> None:
        self._runner = runner
        self.handle: TaskHandle[Any] | None = None
        self._live = 0  # started and not yet ended, cancelled ones included

    @property
    def running(self) -> bool:
        """A request is awaited (not cancelled)."""
        return self.handle is not None

    @property
    def busy(self) -> bool:
        """A request, perhaps a cancelled one, has not yet ended in the pool."""
        return self._live > 0

    def start(self, work: Callable[[TaskContext], T], *, title: str,
              answered: Callable[[T], None], failed: Callable[[BaseException], None],
              quiet: bool = False) -> None:
        """Run `work`; then `answered(result)` or `failed(error)` on the GUI thread, unless
        the request was cancelled or replaced meanwhile. A `quiet` one stays out of the
        status bar."""
        handle = self._runner.run(work, title=title, on_error=lambda _exc: None, quiet=quiet)

        def succeeded(result: T, h: TaskHandle[Any] = handle) -> None:
            if self._claim(h) and not h.is_cancelled:
                answered(result)

        def errored(exc: BaseException, h: TaskHandle[Any] = handle) -> None:
            # Claimed first: a request cancelled from elsewhere (shutdown) is no longer awaited.
            if self._claim(h) and not isinstance(exc, TaskCancelled | Cancelled):
                failed(exc)

        handle.succeeded.connect(succeeded)
        handle.failed.connect(errored)
        handle.finished.connect(self._ended)
        self._live += 1
        self.handle = handle

    def cancel(self) -> bool:
        """Stop waiting (the task is asked to stop); False when nothing was awaited."""
        if self.handle is None:
            return False
        self.handle.cancel()
        self.handle = None
        return True

    def _claim(self, handle: TaskHandle[Any]) -> bool:
        if handle is not self.handle:
            return False
        self.handle = None
        return True

    def _ended(self) -> None:
        self._live -= 1
