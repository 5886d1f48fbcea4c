"""The task runner: results, errors, progress and cancellation arrive by queued signals."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import pytest
from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskCancelled, TaskContext, TaskRunner


def test_result_arrives_on_the_gui_thread(runner: TaskRunner, qtbot: QtBot) -> None:
    seen: dict[str, object] = {}

    def work(_ctx: TaskContext) -> int:
        seen["worker"] = threading.get_ident()
        return 6 * 7

    def done(value: int) -> None:
        seen["value"] = value
        seen["callback_thread"] = QThread.currentThread()

    handle = runner.run(work, title="answer", on_success=done)
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    assert seen["value"] == 42
    assert seen["worker"] != threading.get_ident()
    assert seen["callback_thread"] is QThread.currentThread()
    assert handle.result == 42
    assert handle.error is None


def test_error_goes_to_on_error(runner: TaskRunner, qtbot: QtBot) -> None:
    errors: list[BaseException] = []

    def work(_ctx: TaskContext) -> None:
        raise ValueError("broken input")

    handle = runner.run(work, on_error=errors.append)
    with qtbot.waitSignal(handle.failed, timeout=5000) as blocker:
        pass
    assert isinstance(blocker.args[0], ValueError)
    assert [str(e) for e in errors] == ["broken input"]


def test_unhandled_error_reaches_the_excepthook(runner: TaskRunner, qtbot: QtBot,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    hooked: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda _t, exc, _tb: hooked.append(exc))

    def work(_ctx: TaskContext) -> None:
        raise RuntimeError("bug in a task")

    handle = runner.run(work)
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    assert [str(e) for e in hooked] == ["bug in a task"]


def test_progress_and_partial_results_arrive_in_order(runner: TaskRunner,
                                                      qtbot: QtBot) -> None:
    progress: list[tuple[float, str]] = []
    partial: list[object] = []

    def work(ctx: TaskContext) -> str:
        ctx.partial([1, 2])
        for i in range(1, 5):
            ctx.progress(i / 4, f"step {i}")
        return "done"

    handle = runner.run(work, on_progress=lambda f, t: progress.append((f, t)))
    handle.partial.connect(partial.append)
    with qtbot.waitSignal(handle.succeeded, timeout=5000):
        pass
    assert progress == [(0.25, "step 1"), (0.5, "step 2"), (0.75, "step 3"), (1.0, "step 4")]
    assert partial == [[1, 2]]


def test_cancel_stops_a_running_task(runner: TaskRunner, qtbot: QtBot) -> None:
    started = threading.Event()

    def work(ctx: TaskContext) -> int:
        started.set()
        rounds = 0
        while not ctx.cancelled():
            rounds += 1
            threading.Event().wait(0.001)  # a slice of "work" in the worker
        return rounds

    handle = runner.run(work, title="endless")
    qtbot.waitUntil(started.is_set, timeout=5000)
    assert runner.active_count == 1
    handle.cancel()
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    assert handle.is_cancelled
    assert runner.active_count == 0


def test_check_cancelled_raises_task_cancelled(runner: TaskRunner, qtbot: QtBot) -> None:
    started, go_on = threading.Event(), threading.Event()

    def work(ctx: TaskContext) -> None:
        started.set()
        go_on.wait(5)
        ctx.check_cancelled()

    errors: list[BaseException] = []
    handle = runner.run(work, on_error=errors.append)
    qtbot.waitUntil(started.is_set, timeout=5000)
    handle.cancel()
    go_on.set()
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    assert len(errors) == 1
    assert isinstance(errors[0], TaskCancelled)


def test_bus_hears_about_visible_tasks_only(runner: TaskRunner, bus: EventBus,
                                            qtbot: QtBot) -> None:
    started: list[tuple[int, str]] = []
    finished: list[int] = []
    bus.task_started.connect(lambda i, t: started.append((i, t)))
    bus.task_finished.connect(finished.append)
    visible = runner.run(lambda _ctx: 1, title="Visible work")
    quiet = runner.run(lambda _ctx: 2, title="Quiet work", quiet=True)
    qtbot.waitUntil(lambda: visible.done and quiet.done, timeout=5000)
    assert started == [(visible.task_id, "Visible work")]
    assert finished == [visible.task_id]


def test_shutdown_cancels_and_waits(bus: EventBus, qtbot: QtBot) -> None:
    runner = TaskRunner(bus)
    started = threading.Event()

    def work(ctx: TaskContext) -> str:
        started.set()
        while not ctx.cancelled():
            threading.Event().wait(0.001)
        return "stopped"

    runner.run(work, title="long")
    qtbot.waitUntil(started.is_set, timeout=5000)
    assert runner.shutdown(timeout_ms=5000)
    qtbot.waitUntil(lambda: runner.active_count == 0, timeout=5000)
    with pytest.raises(RuntimeError):
        runner.run(lambda _ctx: None)


def test_error_for_a_destroyed_widget_is_dropped(qtbot: QtBot, runner: TaskRunner) -> None:
    """A page closed while its task ran must not be called back into."""
    import shiboken6
    from PySide6.QtWidgets import QLabel

    calls: list[BaseException] = []

    class Page(QLabel):
        def on_error(self, exc: BaseException) -> None:
            calls.append(exc)
            self.setText(str(exc))

    page = Page()
    gate = threading.Event()

    def work(_ctx: object) -> None:
        gate.wait(10)
        raise ValueError("too late")

    handle = runner.run(work, on_error=page.on_error, quiet=True)
    shiboken6.delete(page)
    gate.set()
    qtbot.waitUntil(lambda: handle.done, timeout=5000)
    assert calls == []


def test_result_for_a_destroyed_widget_a_lambda_holds_is_dropped(
        qtbot: QtBot, runner: TaskRunner) -> None:
    """`on_success=lambda r: self.show(r)` on a page closed meanwhile is not called: the
    label it would set is gone (seen as a RuntimeError at window close)."""
    import shiboken6
    from PySide6.QtWidgets import QLabel

    label, kept = QLabel(), QLabel()
    shown: list[str] = []
    gate = threading.Event()

    def work(_ctx: object) -> str:
        gate.wait(10)
        return "late"

    def show_on(target: QLabel) -> Callable[[str], None]:
        def show(result: str) -> None:  # closes over its label, as a page's lambda does
            shown.append(result)
            target.setText(result)
        return show

    gone = runner.run(work, on_success=show_on(label), quiet=True)
    alive = runner.run(work, on_success=show_on(kept), quiet=True)
    shiboken6.delete(label)
    gate.set()
    qtbot.waitUntil(lambda: gone.done and alive.done, timeout=5000)
    assert shown == ["late"]
    assert kept.text() == "late"
