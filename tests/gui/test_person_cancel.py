"""More of "every dialog can be cancelled" (issue 16), each opened from the main window as a
person would: the customer edit form's Cancel button, the quit question while a campaign
sends, the error dialog by Escape, and the import report's "Export rejected rows…" chooser.

Only keys and clicks act (a fault is injected below the window for the error dialog);
asserts read what is shown and what the database holds.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from minicrm_desktop.app import AppContext
from minicrm_desktop.views.common.file_dialogs import SaveCsvDialog
from minicrm_desktop.views.shell.main_window import QuitWhileBusy

from .person import (
    DialogLog,
    Key,
    Mod,
    answer_dialog,
    back_to,
    click,
    click_menu,
    no_dialog_open,
    press,
    type_text,
)

# The real question, before the suite's autouse fixture replaces it with "quit".
REAL_QUIT_ASK = QuitWhileBusy.__dict__["ask"]


def _answered(log: DialogLog) -> bool:
    return bool(log.seen)


def _customer(ctx: AppContext, cid: int) -> tuple[object, ...]:
    with ctx.engine.connect() as conn:
        return tuple(conn.execute(text("SELECT name, phone, city, subscribed FROM customers "
                                       "WHERE id = :c"), {"c": cid}).one())


def test_customer_edit_cancel_button_keeps_the_customer(person_app: AppContext,
                                                        qtbot: QtBot) -> None:
    page = person_app.window.customers_page
    qtbot.waitUntil(lambda: page.count_label.text() == "3,000 customers", timeout=20_000)
    table = page.table
    click(table.viewport(), table.visualRect(page.model.index(0, 0)).center())
    qtbot.waitUntil(lambda: page.detail.name_label.text() != "", timeout=10_000)
    cid = page.model.customer_id(0)
    assert cid is not None
    before = _customer(person_app, cid)
    shown_name = page.detail.name_label.text()
    for leave in ("Cancel", "Escape"):
        press(Key.Key_F2, widget=table)
        qtbot.waitUntil(page.detail.editor.isVisible, timeout=5000)
        for edit, value in ((page.detail.name_edit, "Someone Else"),
                            (page.detail.city_edit, "Nowhere")):
            click(edit)
            press(Key.Key_A, Mod.ControlModifier)
            type_text(value)
        click(page.detail.subscribed_check)
        if leave == "Cancel":
            click(page.detail.cancel_edit_button)
        else:
            press(Key.Key_Escape)
        assert not page.detail.editor.isVisible(), leave
        assert page.detail.name_label.text() == shown_name
        assert _customer(person_app, cid) == before, leave
        assert page.model.index(0, 0).data() != "Someone Else"


def test_quit_while_an_export_runs_can_be_cancelled(person_app: AppContext, qtbot: QtBot,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    """Ctrl+Q while an export runs asks first; Escape or No keeps the window and the
    export, which then finishes and writes its file. (The export waits below the window
    until the questions are answered, so it is surely still running.)"""
    from minicrm_desktop.services.customers import queries  # the page's task imports it

    release = threading.Event()
    real_export = queries.export_customers_csv

    def held_export(*args: Any, **kwargs: Any) -> Any:
        release.wait(timeout=60)
        return real_export(*args, **kwargs)

    monkeypatch.setattr(queries, "export_customers_csv", held_export)
    window = person_app.window
    page = window.customers_page
    qtbot.waitUntil(lambda: page.count_label.text() == "3,000 customers", timeout=20_000)
    target = tmp_path / "everyone.csv"
    # Where to save is answered directly (the chooser's Cancel is tested elsewhere).
    monkeypatch.setattr(SaveCsvDialog, "ask", classmethod(lambda *_a, **_k: target))
    click_menu(window.menuBar(), "File", "Export customers view…", qtbot)
    qtbot.waitUntil(lambda: "Exporting to everyone.csv" in person_app.runner.active_titles(),
                    timeout=5000)
    patch = pytest.MonkeyPatch()
    patch.setattr(QuitWhileBusy, "ask", REAL_QUIT_ASK)
    try:
        for key, button in ((Key.Key_Escape, None), (None, "No")):
            log = DialogLog()
            answer_dialog(log, key=key, button=button)
            press(Key.Key_Q, Mod.ControlModifier, window)
            qtbot.waitUntil(partial(_answered, log), timeout=5000)
            qtbot.waitUntil(no_dialog_open, timeout=3000)
            assert "Quit MiniCRM?" in log.seen[0]
            assert "Exporting to everyone.csv" in log.seen[0]
            assert window.isVisible()  # the window stays
            back_to(window, qtbot)
    finally:
        patch.undo()
    release.set()  # the export goes on where it waited
    qtbot.waitUntil(lambda: target.exists() and "Exported" in window.statusBar()
                    .currentMessage(), timeout=20_000)
    assert len(target.read_text(encoding="utf-8").splitlines()) == 3001


def test_import_reports_export_rejected_rows_cancel_writes_nothing(
        person_app: AppContext, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    from minicrm_desktop.views.common.file_dialogs import OpenCsvDialog

    source = tmp_path / "mixed.csv"
    source.write_text("email,name\nok@example.com,Ok\nnot-an-email,Bad\n", encoding="utf-8")
    # Which file to import is answered directly; the chooser under test is the real one.
    monkeypatch.setattr(OpenCsvDialog, "ask", classmethod(lambda *_a, **_k: source))
    window = person_app.window
    click_menu(window.menuBar(), "File", "Import CSV…", qtbot)
    qtbot.waitUntil(lambda: window.import_dialog is not None
                    and window.import_dialog.isVisible(), timeout=3000)
    dialog = window.import_dialog
    assert dialog is not None
    click(next(b for b in dialog.findChildren(QPushButton)
               if b.text() == "Choose file…" and b.isVisible()))
    qtbot.waitUntil(dialog.import_button.isEnabled, timeout=10_000)
    click(dialog.import_button)
    qtbot.waitUntil(dialog.export_rejections_button.isVisible, timeout=20_000)
    assert dialog.rejections_table.rowCount() == 1
    before = sorted(p.name for p in tmp_path.iterdir())
    home_before = sorted(p.name for p in Path.home().iterdir())
    for key, button in ((Key.Key_Escape, None), (None, "Cancel")):
        log = DialogLog()
        answer_dialog(log, key=key, button=button)
        click(dialog.export_rejections_button)
        qtbot.waitUntil(partial(_answered, log), timeout=10_000)
        qtbot.waitUntil(lambda: QApplication.activeModalWidget() in (None, dialog),
                        timeout=3000)
        assert "Save the rejected rows" in log.seen[0]
        assert dialog.isVisible()  # only the chooser closed; the report stays
        assert sorted(p.name for p in tmp_path.iterdir()) == before
        assert sorted(p.name for p in Path.home().iterdir()) == home_before
    press(Key.Key_Escape, widget=dialog.focusWidget() or dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)


def test_an_error_shown_is_dismissed_by_escape(person_app: AppContext, qtbot: QtBot,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug met while a person works shows the error dialog over the window; Escape
    dismisses it and the window goes on working. (The fault is injected below the window:
    choosing where to export fails as a bug would.)"""
    from minicrm_desktop.views.shell.errors import ErrorReporter

    reporter = ErrorReporter()
    reporter.dialog_parent = person_app.window
    reporter.install()  # as run_gui does

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the file chooser broke")

    monkeypatch.setattr(SaveCsvDialog, "ask", classmethod(broken))
    window = person_app.window
    try:
        click_menu(window.menuBar(), "File", "Export customers view…", qtbot)
        qtbot.waitUntil(lambda: bool(reporter.dialogs)
                        and reporter.dialogs[0].isVisible(), timeout=10_000)
        dialog = reporter.dialogs[0]
        assert "the file chooser broke" in dialog.message_label.text()
        press(Key.Key_Escape, widget=dialog.focusWidget() or dialog)
        qtbot.waitUntil(lambda: not reporter.dialogs, timeout=5000)
    finally:
        reporter.uninstall()
    back_to(window, qtbot)
    assert window.isVisible()
    press(Key.Key_2, Mod.ControlModifier, window)  # and the window still answers
    qtbot.waitUntil(window.segments_page.isVisible, timeout=5000)


def test_quit_while_a_campaign_sends_names_it_and_can_be_cancelled(
        person_app: AppContext, qtbot: QtBot) -> None:
    """Ctrl+Q while a campaign sends from this window asks first, naming the campaign;
    Escape keeps the window and the sending."""
    from minicrm_desktop.services.campaigns.vendor import VendorConfig

    from .test_person_campaign import _figure, _launch_elsewhere, _open_from_list

    campaign_id = _launch_elsewhere(person_app, VendorConfig(success_rate=0.9, latency_ms=40,
                                                             seed=7))
    detail = _open_from_list(person_app, qtbot, "Autumn offer")
    click(detail.resume_button)
    qtbot.waitUntil(lambda: _figure(detail, "sent") > 0, timeout=20_000)
    assert person_app.campaigns.is_running(campaign_id)
    window = person_app.window
    patch = pytest.MonkeyPatch()
    patch.setattr(QuitWhileBusy, "ask", REAL_QUIT_ASK)
    try:
        log = DialogLog()
        answer_dialog(log, key=Key.Key_Escape)
        press(Key.Key_Q, Mod.ControlModifier, window)
        qtbot.waitUntil(partial(_answered, log), timeout=5000)
        qtbot.waitUntil(no_dialog_open, timeout=3000)
    finally:
        patch.undo()
    assert "Quit MiniCRM?" in log.seen[0]
    assert "Sending campaign “Autumn offer”" in log.seen[0]
    assert window.isVisible()
    sent = _figure(detail, "sent")
    qtbot.waitUntil(lambda: _figure(detail, "sent") > sent, timeout=20_000)  # still sending
    assert person_app.campaigns.is_running(campaign_id)
