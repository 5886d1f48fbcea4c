"""Jobs in a helper process: progress, result, error and cancellation cross back."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from minicrm_desktop.services.core.tasks import TaskContext, TaskRunner, run_in_process

from . import process_jobs


def test_result_and_progress_come_back(runner: TaskRunner, qtbot: QtBot) -> None:
    seen: list[float] = []

    def task(ctx: TaskContext) -> int:
        return int(run_in_process(process_jobs.count_until_cancelled, (5,),
                                  progress=lambda n: ctx.progress(n / 5),
                                  should_cancel=ctx.cancelled))

    handle = runner.run(task, on_progress=lambda f, _t: seen.append(f))
    with qtbot.waitSignal(handle.succeeded, timeout=30_000) as blocker:
        pass
    assert blocker.args == [5]
    assert seen == [0.2, 0.4, 0.6, 0.8, 1.0]


def test_errors_are_raised_in_the_parent(runner: TaskRunner, qtbot: QtBot) -> None:
    errors: list[BaseException] = []
    handle = runner.run(lambda ctx: run_in_process(process_jobs.fail, ("bad file",)),
                        on_error=errors.append)
    with qtbot.waitSignal(handle.finished, timeout=30_000):
        pass
    assert len(errors) == 1
    assert isinstance(errors[0], ValueError)
    assert str(errors[0]) == "bad file"


def test_cancel_reaches_the_helper_process(runner: TaskRunner, qtbot: QtBot) -> None:
    def task(ctx: TaskContext) -> int:
        return int(run_in_process(process_jobs.count_until_cancelled, (1_000_000,),
                                  progress=lambda n: ctx.progress(-1, str(n)),
                                  should_cancel=ctx.cancelled))

    handle = runner.run(task)
    with qtbot.waitSignal(handle.progressed, timeout=30_000):
        pass
    handle.cancel()
    with qtbot.waitSignal(handle.succeeded, timeout=30_000) as blocker:
        pass
    assert 0 < blocker.args[0] < 1_000_000
