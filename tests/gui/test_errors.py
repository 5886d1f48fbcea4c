"""The exception hook: logged, shown once on the GUI thread, details copyable."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from minicrm_desktop.errors import DatabaseUnavailable
from minicrm_desktop.views.shell.errors import ErrorDialog, ErrorReporter


@pytest.fixture
def reporter(qtbot: QtBot) -> Iterator[ErrorReporter]:
    rep = ErrorReporter()
    yield rep
    for dialog in list(rep.dialogs):
        dialog.close()
    rep.uninstall()


def _raise_bug() -> None:
    raise ZeroDivisionError("division by zero in the totals")


def _capture() -> tuple[type[BaseException], BaseException, object]:
    try:
        _raise_bug()
    except ZeroDivisionError:
        return sys.exc_info()  # type: ignore[return-value]
    raise AssertionError("unreachable")


def test_a_bug_shows_a_dialog_with_copyable_details(reporter: ErrorReporter, qtbot: QtBot,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    exc_type, exc, tb = _capture()
    with caplog.at_level(logging.ERROR), qtbot.waitSignal(reporter.shown, timeout=5000) as b:
        reporter.excepthook(exc_type, exc, tb)  # type: ignore[arg-type]
    dialog = b.args[0]
    assert isinstance(dialog, ErrorDialog)
    assert dialog.isVisible()
    qtbot.addWidget(dialog)
    assert "ZeroDivisionError: division by zero in the totals" in dialog.message_label.text()
    assert "Traceback" in dialog.details
    assert "_raise_bug" in dialog.details
    assert dialog.quit_button is not None
    dialog.copy_button.click()
    assert "_raise_bug" in QGuiApplication.clipboard().text()
    assert "division by zero in the totals" in caplog.text


def test_the_same_bug_is_shown_once(reporter: ErrorReporter, qtbot: QtBot) -> None:
    exc_type, exc, tb = _capture()
    with qtbot.waitSignal(reporter.shown, timeout=5000):
        reporter.excepthook(exc_type, exc, tb)  # type: ignore[arg-type]
    with qtbot.assertNotEmitted(reporter.shown, wait=100):
        reporter.excepthook(exc_type, exc, tb)  # type: ignore[arg-type]
    assert len(reporter.dialogs) == 1


def test_expected_errors_get_a_plain_message(reporter: ErrorReporter, qtbot: QtBot) -> None:
    error = DatabaseUnavailable("cannot open the database (MySQL server db:3306/crm): refused")
    with qtbot.waitSignal(reporter.shown, timeout=5000) as b:
        reporter.excepthook(DatabaseUnavailable, error, None)
    dialog = b.args[0]
    qtbot.addWidget(dialog)
    assert dialog.message_label.text() == str(error)
    assert dialog.details == ""
    assert dialog.quit_button is None
    assert not dialog.copy_button.isVisibleTo(dialog)


def test_errors_on_other_threads_reach_the_gui_thread(reporter: ErrorReporter,
                                                      qtbot: QtBot) -> None:
    reporter.install()
    assert sys.excepthook == reporter.excepthook

    def crash() -> None:
        raise KeyError("missing in worker")

    worker = threading.Thread(target=crash)
    with qtbot.waitSignal(reporter.shown, timeout=5000) as b:
        worker.start()
        worker.join()
    qtbot.addWidget(b.args[0])
    assert "missing in worker" in b.args[0].message_label.text()
