"""Every dialog can be cancelled by Escape (or its Cancel button), and every menu entry
works from its menu (issue 16). The campaign wizard's own Cancel/Escape is not here: it
offers to keep a draft (tests/gui/test_campaign_wizard.py).

Only keys and clicks act; asserts read what a person sees.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog, QMenu, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from minicrm_desktop.app import AppContext
from minicrm_desktop.models.tables import customers_table
from minicrm_desktop.services.core import secrets
from minicrm_desktop.services.core.settings import DEMO_OFFER_DISMISSED, Settings
from minicrm_desktop.services.segments.saved import list_segments

from .conftest import close_app, start_app
from .person import (
    LONG,
    DialogLog,
    Key,
    Mod,
    accessible_name,
    answer_dialog,
    answer_popup,
    back_to,
    click,
    click_menu,
    describe,
    focusable_controls,
    no_dialog_open,
    press,
    type_text,
)


def _seen(log: DialogLog, n: int = 1) -> bool:
    return len(log.seen) >= n


def _escape_the_next_dialog(qtbot: QtBot, act: Any, expect: str) -> DialogLog:
    """Schedule Escape for the next modal dialog, `act()`, and check it came and went."""
    log = DialogLog()
    answer_dialog(log, key=Key.Key_Escape)
    act()
    qtbot.waitUntil(partial(_seen, log), timeout=10_000)
    qtbot.waitUntil(no_dialog_open, timeout=3000)
    assert expect in log.seen[0], log.seen
    return log


def _button(root: QWidget, text: str) -> QAbstractButton:
    found = [b for b in root.findChildren(QAbstractButton)
             if b.text().replace("&", "") == text and b.isVisible()]
    assert len(found) == 1, (text, [b.text() for b in found])
    return found[0]


def _customers(ctx: AppContext) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(customers_table)).scalar_one())


def _unnamed(root: QWidget) -> list[str]:
    return [describe(c) for c in focusable_controls(root) if not accessible_name(c)]


# --- the first start's demo-data offer ---------------------------------------------------------

@pytest.fixture
def empty_app(sqlite_url: str, settings: Settings, qtbot: QtBot) -> Iterator[AppContext]:
    ctx = start_app(sqlite_url, settings, qtbot, offer_demo=True)
    ctx.window.show()
    back_to(ctx.window, qtbot)
    yield ctx
    close_app(ctx, qtbot)


def test_demo_offer_escape_starts_empty(empty_app: AppContext, qtbot: QtBot,
                                        settings: Settings) -> None:
    dialog = empty_app.window.demo_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    assert not _unnamed(dialog)
    press(Key.Key_Escape, widget=dialog.focusWidget() or dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)
    assert _customers(empty_app) == 0
    assert not settings.get(DEMO_OFFER_DISMISSED)  # "don't offer again" was not ticked
    assert empty_app.window.customers_page.count_label.text() == "0 customers"


def test_demo_offer_escape_while_seeding_stops_it(empty_app: AppContext, qtbot: QtBot) -> None:
    dialog = empty_app.window.demo_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    click(dialog.count_box)
    press(Key.Key_A, Mod.ControlModifier)
    type_text("500000")
    click(_button(dialog, "Add demo data"))
    qtbot.waitUntil(lambda: dialog.progress_bar.value() > 0, timeout=30_000)
    press(Key.Key_Escape, widget=dialog.focusWidget() or dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=60_000)
    assert 0 < _customers(empty_app) < 500_000  # finished batches stay, the rest never came
    qtbot.waitUntil(lambda: empty_app.window.customers_page.count_label.text()
                    == f"{_customers(empty_app):,} customers", timeout=10_000)


# --- the window's dialogs ------------------------------------------------------------------------

def test_import_dialog_and_its_file_chooser_cancel(person_app: AppContext,
                                                   qtbot: QtBot) -> None:
    window = person_app.window
    click_menu(window.menuBar(), "File", "Import CSV…", qtbot)
    qtbot.waitUntil(lambda: window.import_dialog is not None
                    and window.import_dialog.isVisible(), timeout=3000)
    dialog = window.import_dialog
    assert dialog is not None
    assert not _unnamed(dialog)
    _escape_the_next_dialog(qtbot, lambda: click(_button(dialog, "Choose file…")),
                            "Choose")
    assert dialog.isVisible()  # only the file chooser closed
    assert dialog.file_edit.text() == ""
    press(Key.Key_Escape, widget=dialog.focusWidget() or dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)


def test_quit_with_unsaved_segment_edits_can_be_cancelled(
        person_app: AppContext, qtbot: QtBot, real_dialogs: None) -> None:
    window = person_app.window
    press(Key.Key_2, Mod.ControlModifier, window)
    page = window.segments_page
    qtbot.waitUntil(lambda: page.segment_list.count() == 2, timeout=10_000)
    item = page.segment_list.item(0)
    click(page.segment_list.viewport(), page.segment_list.visualItemRect(item).center())
    qtbot.waitUntil(lambda: page.name_edit.text() == LONG, timeout=5000)
    click(page.name_edit)
    press(Key.Key_End)
    type_text(" edited")
    for key, button in ((Key.Key_Escape, None), (None, "Cancel")):
        log = DialogLog()
        answer_dialog(log, key=key, button=button)
        press(Key.Key_Q, Mod.ControlModifier, window)
        qtbot.waitUntil(partial(_seen, log), timeout=5000)
        qtbot.waitUntil(no_dialog_open, timeout=3000)
        assert "Unsaved changes" in log.seen[0]
        assert window.isVisible()  # still open, the edits kept
        assert page.name_edit.text() == f"{LONG} edited"
        back_to(window, qtbot)


def test_segment_page_dialogs_cancel(person_app: AppContext, qtbot: QtBot,
                                     real_dialogs: None) -> None:
    window = person_app.window
    press(Key.Key_2, Mod.ControlModifier, window)
    page = window.segments_page
    qtbot.waitUntil(lambda: page.segment_list.count() == 2, timeout=10_000)
    item = page.segment_list.item(0)
    click(page.segment_list.viewport(), page.segment_list.visualItemRect(item).center())
    qtbot.waitUntil(lambda: page.name_edit.text() == LONG, timeout=5000)
    rule_before = page.model.rule

    # JSON ▾ → Import rule JSON… → Escape in the file chooser: the rule stays.
    for entry, title in (("&Import rule JSON…", "JSON"), ("&Export rule JSON…", "JSON")):
        popup = DialogLog()
        answer_popup(popup, choose=entry)
        _escape_the_next_dialog(qtbot, lambda: click(page.json_button), title)
        assert page.model.rule == rule_before
        assert page.state_label.text() != "• unsaved changes"
        back_to(window, qtbot)

    # A new segment without a name: Ctrl+S asks for one; Escape saves nothing.
    press(Key.Key_N, Mod.ControlModifier, window)
    click(page.name_edit)
    press(Key.Key_A, Mod.ControlModifier)
    press(Key.Key_Delete)
    _escape_the_next_dialog(qtbot, lambda: press(Key.Key_S, Mod.ControlModifier),
                            "Save segment")
    assert len(list_segments(person_app.engine)) == 2
    assert page.name_edit.text() == ""

    # The audience sample (not modal): Tab leaves its table, Escape closes it.
    back_to(window, qtbot)
    qtbot.waitUntil(lambda: page.live.sample_button.isEnabled(), timeout=20_000)
    click(page.live.sample_button)
    qtbot.waitUntil(lambda: page.live.sample_dialog is not None
                    and page.live.sample_dialog.isVisible(), timeout=10_000)
    sample = page.live.sample_dialog
    assert sample is not None
    back_to(sample, qtbot)
    assert not _unnamed(sample)
    click(sample.table.viewport())
    press(Key.Key_Tab)
    assert not sample.table.hasFocus(), "Tab stayed in the sample's table"
    press(Key.Key_Escape)
    qtbot.waitUntil(lambda: not sample.isVisible(), timeout=3000)


def test_settings_dialogs_cancel(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    press(Key.Key_4, Mod.ControlModifier, window)
    page = window.settings_page
    # Choosing a CA file or a client-secrets file: Escape leaves the setting as it was.
    for text in ("Choose…", "Choose client-secrets JSON…"):
        button = _button(page, text)
        page_area = window.page_area
        page_area.ensureWidgetVisible(button)  # a person scrolls to it
        _escape_the_next_dialog(qtbot, partial(click, button), "")
        back_to(window, qtbot)


def test_api_key_passphrase_can_be_cancelled(person_app: AppContext, qtbot: QtBot,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """On a machine with no system keyring the key goes into the encrypted file, which
    asks for a passphrase: Escape stores nothing and says so."""
    monkeypatch.setattr(secrets, "usable_keyring", lambda: None)  # such a machine
    window = person_app.window
    press(Key.Key_4, Mod.ControlModifier, window)
    group = window.settings_page
    save = _button(group, "Save key")
    window.page_area.ensureWidgetVisible(save)
    key_edit = next(w for w in focusable_controls(group)
                    if w.objectName() == "settings_ai_key")
    click(key_edit)
    type_text("sk-test-not-a-real-key")
    log = DialogLog()
    answer_dialog(log, key=Key.Key_Escape)
    click(save)
    qtbot.waitUntil(lambda: "saved" in _status_text(group), timeout=10_000)
    assert log.seen
    assert "passphrase" in log.seen[0].lower()
    assert "The key was not saved" in _status_text(group)
    assert key_edit.property("text") == ""  # never left in a widget
    assert not list(Path(os.environ["XDG_DATA_HOME"]).rglob("secrets.enc"))


def _status_text(root: QWidget) -> str:
    from PySide6.QtWidgets import QLabel

    return " ".join(label.text() for label in root.findChildren(QLabel) if label.isVisible())


def test_audit_export_can_be_cancelled(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    press(Key.Key_6, Mod.ControlModifier, window)
    audit = window.audit_page
    assert audit is not None
    qtbot.waitUntil(lambda: audit.message.text().endswith("entries"), timeout=10_000)
    _escape_the_next_dialog(qtbot, partial(click, audit.export_button), "")
    assert audit.message.text().endswith("entries")  # nothing was exported


# --- every menu entry ---------------------------------------------------------------------------

MENU = {
    "File": ["Import CSV…", "Export customers view…", "Quit"],
    "Edit": ["Find customers"],
    "View": ["Refresh", "Customers", "Segments", "Campaigns", "Settings", "Users",
             "Audit log"],
    "Segments": ["New segment"],
    "Help": ["About MiniCRM"],
}


def _menu_entries(ctx: AppContext) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for top in ctx.window.menuBar().actions():
        menu = top.menu()
        if not isinstance(menu, QMenu):
            continue
        found[top.text().replace("&", "")] = [
            a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]
    return found


def test_every_menu_entry_works_from_its_menu(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    assert _menu_entries(person_app) == MENU  # a new entry needs a line below
    bar = window.menuBar()
    # Edit → Find customers: the search box on the Customers page has the focus.
    press(Key.Key_2, Mod.ControlModifier, window)
    click_menu(bar, "Edit", "Find customers", qtbot)
    qtbot.waitUntil(window.customers_page.search.hasFocus, timeout=3000)
    # View → Refresh: the status bar says what is read again.
    click_menu(bar, "View", "Refresh", qtbot)
    assert window.statusBar().currentMessage() == "Refreshing Customers…"
    # Segments → New segment.
    click_menu(bar, "Segments", "New segment", qtbot)
    qtbot.waitUntil(lambda: window.segments_page.isVisible(), timeout=3000)
    assert window.segments_page.name_edit.text() == "New segment"
    # File → Export customers view… asks where (Escape: nothing written).
    log = DialogLog()
    answer_dialog(log, key=Key.Key_Escape)
    click_menu(bar, "File", "Export customers view…", qtbot)
    qtbot.waitUntil(partial(_seen, log), timeout=10_000)
    qtbot.waitUntil(no_dialog_open, timeout=3000)
    assert "Export customers" in log.seen[0]
    back_to(window, qtbot)
    # (Import and About: test_import_dialog_and_its_file_chooser_cancel and
    # test_window_dialogs_cancel_by_escape; the pages: test_each_page_by_menu.)
    # File → Quit closes the window.
    click_menu(bar, "File", "Quit", qtbot)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)


def test_shortcuts_are_bound_once(person_app: AppContext, qtbot: QtBot, qtlog: Any) -> None:
    """No key sequence belongs to two actions that can fire at once, and pressing each
    window shortcut on each page draws no "Ambiguous shortcut" from Qt."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QAction

    window = person_app.window
    scoped = (Qt.ShortcutContext.WidgetWithChildrenShortcut, Qt.ShortcutContext.WidgetShortcut)
    window_wide: dict[str, list[str]] = {}
    for action in window.findChildren(QAction):
        if action.shortcutContext() in scoped:
            continue
        for sequence in action.shortcuts():
            window_wide.setdefault(sequence.toString(), []).append(action.text())
    doubled = {k: v for k, v in window_wide.items() if len(v) > 1}
    assert not doubled
    # Page and widget shortcuts (active inside their page or widget) never shadow a window
    # shortcut.
    for action in window.findChildren(QAction):
        if action.shortcutContext() in scoped:
            for sequence in action.shortcuts():
                assert sequence.toString() not in window_wide, (action.text(), sequence)
    for number in range(1, 7):
        press(Key(Key.Key_0.value + number), Mod.ControlModifier, window)
        press(Key.Key_F5, widget=QApplication.focusWidget() or window)
        press(Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier,
              QApplication.focusWidget() or window)
        press(Key.Key_Y, Mod.ControlModifier, QApplication.focusWidget() or window)
    assert not [r for r in qtlog.records if "Ambiguous" in r.message]
    assert not [d for d in QApplication.topLevelWidgets()
                if isinstance(d, QDialog) and d.isVisible()]
