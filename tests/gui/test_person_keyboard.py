"""The real window driven like a person, by keyboard and mouse (issue 16): pages by shortcut
and by menu, undo and redo by keys, every dialog cancelled by Escape or Cancel, Tab through
every page and out of every table, accessible names, a visible focus.

Only QTest key presses and mouse clicks act here; asserts read what is on screen.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from minicrm_desktop.app import AppContext
from minicrm_desktop.services.segments.saved import list_segments
from minicrm_desktop.views.shell.main_window import ADMIN_PAGES, PAGES

from .person import (
    LONG,
    DialogAnswerer,
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
    tab_walk,
    type_text,
)

TITLES = {"customers": "Customers", "segments": "Segments", "campaigns": "Campaigns",
          "settings": "Settings", "users": "Users", "audit": "Audit log"}


def _page_shown(ctx: AppContext) -> str:
    page = ctx.window.stack.currentWidget()
    assert page is not None
    assert page.isVisible()
    return page.objectName().removesuffix("_page")


@pytest.mark.parametrize("number", range(1, 7))
def test_each_page_by_shortcut(person_app: AppContext, qtbot: QtBot, number: int) -> None:
    window = person_app.window
    name = (*PAGES, *ADMIN_PAGES)[number - 1]
    press(Key(Key.Key_0.value + number), Mod.ControlModifier, window)
    qtbot.waitUntil(lambda: _page_shown(person_app) == name, timeout=3000)
    assert window.sidebar.currentItem().text() == TITLES[name]
    focus = QApplication.focusWidget()
    page = window.stack.currentWidget()
    assert focus is not None
    assert page is not None
    assert page.isAncestorOf(focus), "the focus went into the page"


@pytest.mark.parametrize("name", [*PAGES, *ADMIN_PAGES])
def test_each_page_by_menu(person_app: AppContext, qtbot: QtBot, name: str) -> None:
    window = person_app.window
    press(Key.Key_1 if name != "customers" else Key.Key_2, Mod.ControlModifier, window)
    click_menu(window.menuBar(), "View", TITLES[name], qtbot)
    qtbot.waitUntil(lambda: _page_shown(person_app) == name, timeout=3000)


def test_undo_and_redo_by_keys(person_app: AppContext, qtbot: QtBot,
                               qtlog: Any) -> None:
    window = person_app.window
    press(Key.Key_2, Mod.ControlModifier, window)
    page = window.segments_page
    click(page.tree.viewport())  # the rule tree has the focus
    assert page.tree.hasFocus()
    rows = _tree_rows(page.tree)
    press(Key.Key_Return, Mod.ControlModifier)  # add a condition
    assert _tree_rows(page.tree) == rows + 1
    press(Key.Key_Z, Mod.ControlModifier)
    assert _tree_rows(page.tree) == rows
    press(Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)  # redo, Linux style
    assert _tree_rows(page.tree) == rows + 1
    press(Key.Key_Z, Mod.ControlModifier)
    press(Key.Key_Y, Mod.ControlModifier)  # redo, Windows style
    assert _tree_rows(page.tree) == rows + 1
    assert not [r for r in qtlog.records if "Ambiguous" in r.message]


def _seen_once(log: DialogLog) -> bool:
    return len(log.seen) == 1


def _tree_rows(tree: Any) -> int:
    """Rows a person sees in the rule tree (all expanded)."""
    count, index = 0, tree.model().index(0, 0)
    while index.isValid():
        count += 1
        index = tree.indexBelow(index)
    return count


def _select_segment(page: Any, name: str) -> None:
    lst = page.segment_list
    item = next(lst.item(r) for r in range(lst.count()) if lst.item(r).text() == name or
                lst.item(r).toolTip().split("\n")[0] == name)
    click(lst.viewport(), lst.visualItemRect(item).center())


def test_unsaved_changes_prompt_can_be_cancelled(person_app: AppContext, qtbot: QtBot,
                                                 real_dialogs: None) -> None:
    window = person_app.window
    press(Key.Key_2, Mod.ControlModifier, window)
    page = window.segments_page
    qtbot.waitUntil(lambda: page.segment_list.count() == 2, timeout=10_000)
    _select_segment(page, LONG)
    qtbot.waitUntil(lambda: page.name_edit.text() == LONG, timeout=3000)
    click(page.name_edit)
    press(Key.Key_End)
    type_text(" edited")
    assert page.state_label.text() == "• unsaved changes"

    for key, button in ((Key.Key_Escape, None), (None, "Cancel")):
        log = DialogLog()
        answer_dialog(log, key=key, button=button)
        _select_segment(page, f"{LONG} (copy)")
        qtbot.waitUntil(partial(_seen_once, log), timeout=5000)
        qtbot.waitUntil(no_dialog_open, timeout=3000)
        # Nothing asks again, and the edits and the open segment stay.
        qtbot.wait(300)  # the kind of pause in which the question used to come back
        assert no_dialog_open()
        assert len(log.seen) == 1, log.seen
        assert "Unsaved changes" in log.seen[0]
        assert page.name_edit.text() == f"{LONG} edited"
        assert page.segment_list.currentItem().toolTip().split("\n")[0] == LONG

    log = DialogLog()
    answer_dialog(log, button="Discard")
    _select_segment(page, f"{LONG} (copy)")
    qtbot.waitUntil(lambda: page.name_edit.text() == f"{LONG} (copy)", timeout=5000)
    assert len(log.seen) == 1


def test_unsaved_new_segment_prompt_can_be_cancelled(person_app: AppContext, qtbot: QtBot,
                                                     real_dialogs: None) -> None:
    """From a new, unsaved segment: Cancel keeps it, and the focus coming back to the list
    (the window system does that when the question closes) does not ask again."""
    window = person_app.window
    press(Key.Key_2, Mod.ControlModifier, window)
    page = window.segments_page
    qtbot.waitUntil(lambda: page.segment_list.count() == 2, timeout=10_000)
    press(Key.Key_N, Mod.ControlModifier, window)
    type_text("Lapsed", page.name_edit)
    assert page.state_label.text() == "• unsaved changes"
    log = DialogLog()
    answerer = DialogAnswerer(log, Key.Key_Escape)
    try:
        _select_segment(page, LONG)
        qtbot.waitUntil(lambda: len(log.seen) >= 1, timeout=5000)
        qtbot.waitUntil(no_dialog_open, timeout=3000)
        assert page.name_edit.text() == "Lapsed"
        # The window system activates the window again, and the focus returns to the
        # list (a focus-in that must not pick a segment by itself).
        page.segment_list.clearFocus()
        back_to(window, qtbot)
        page.segment_list.setFocus(Qt.FocusReason.ActiveWindowFocusReason)
        qtbot.wait(300)  # the kind of pause in which the question used to come back
    finally:
        answerer.stop()
    assert no_dialog_open()
    assert len(log.seen) == 1, log.seen
    assert page.name_edit.text() == "Lapsed"
    assert page.segment_list.currentItem() is None  # the list still shows what is open
    log = DialogLog()
    answer_dialog(log, button="Discard")
    _select_segment(page, LONG)
    qtbot.waitUntil(lambda: page.name_edit.text() == LONG, timeout=5000)


def test_segment_dialogs_cancel_by_escape(person_app: AppContext, qtbot: QtBot,
                                          real_dialogs: None) -> None:
    window = person_app.window
    press(Key.Key_2, Mod.ControlModifier, window)
    page = window.segments_page
    qtbot.waitUntil(lambda: page.segment_list.count() == 2, timeout=10_000)
    _select_segment(page, LONG)
    qtbot.waitUntil(lambda: page.name_edit.text() == LONG, timeout=3000)
    for button in (page.rename_button, page.delete_segment_button):
        log = DialogLog()
        answer_dialog(log, key=Key.Key_Escape)
        click(button)
        qtbot.waitUntil(partial(_seen_once, log), timeout=5000)
        qtbot.waitUntil(no_dialog_open, timeout=3000)
    names = {s.name for s in list_segments(person_app.engine)}
    assert names == {LONG, f"{LONG} (copy)"}  # nothing renamed, nothing deleted
    assert page.name_edit.text() == LONG


def test_window_dialogs_cancel_by_escape(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    # Import (Ctrl+I) is a window-modal dialog; Escape closes it.
    press(Key.Key_I, Mod.ControlModifier, window)
    qtbot.waitUntil(lambda: window.import_dialog is not None
                    and window.import_dialog.isVisible(), timeout=3000)
    dialog = window.import_dialog
    assert dialog is not None
    press(Key.Key_Escape, widget=dialog.focusWidget() or dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)
    # About (Help menu) is modal: Escape closes it.
    log = DialogLog()
    answer_dialog(log, key=Key.Key_Escape)
    click_menu(window.menuBar(), "Help", "About MiniCRM", qtbot)
    assert log.seen
    assert "About MiniCRM" in log.seen[0]
    assert no_dialog_open()
    back_to(window, qtbot)  # as the window system does when a dialog closes
    # Export (Ctrl+E) asks for a file; Escape leaves without writing.
    log = DialogLog()
    answer_dialog(log, key=Key.Key_Escape)
    click(window.customers_page.export_button)
    qtbot.waitUntil(lambda: len(log.seen) == 1, timeout=10_000)
    qtbot.waitUntil(no_dialog_open, timeout=3000)
    assert window.customers_page.export_handle is None
    # The column chooser menu closes on Escape with every column as it was.
    page = window.customers_page
    hidden = page.hidden_columns()
    log = DialogLog()
    answer_popup(log, Key.Key_Escape)
    click(page.columns_button)
    qtbot.waitUntil(lambda: len(log.seen) == 1, timeout=3000)
    qtbot.waitUntil(lambda: not page.column_menu.isVisible(), timeout=3000)
    assert "Phone" in log.seen[0]
    assert page.hidden_columns() == hidden


def _is_text_entry(widget: QWidget) -> bool:
    return isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit)


@pytest.mark.parametrize("name", ["customers", "segments", "campaigns", "settings", "users",
                                  "audit"])
def test_tab_goes_round_each_page_and_out_of_each_table(
        person_app: AppContext, qtbot: QtBot, name: str) -> None:
    window = person_app.window
    number = (*PAGES, *ADMIN_PAGES).index(name) + 1
    press(Key(Key.Key_0.value + number), Mod.ControlModifier, window)
    page = window.stack.currentWidget()
    assert page is not None
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=3000)
    controls = focusable_controls(page)
    assert controls
    start = QApplication.focusWidget()
    assert start is not None
    walk = tab_walk(start, len(controls) + 8)
    for before, after in zip([start, *walk], walk, strict=False):
        assert before is not after, f"Tab stayed in {describe(before)}"
    for view in (c for c in controls if isinstance(c, QAbstractItemView)):
        assert view in walk, f"Tab never reached {describe(view)}"
    missed = [describe(c) for c in controls if c not in walk]
    assert not missed, f"Tab never reached {missed}"
    # Shift+Tab goes back the same way.
    back = tab_walk(walk[-1], 3, backwards=True)
    assert back[0] is walk[-2]


def test_audit_dates_let_tab_through(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    press(Key.Key_6, Mod.ControlModifier, window)
    audit = window.audit_page
    assert audit is not None
    click(audit.since_edit)
    press(Key.Key_Tab)
    assert QApplication.focusWidget() is not audit.since_edit
    press(Key.Key_Tab, Mod.ShiftModifier)
    press(Key.Key_Backtab, Mod.ShiftModifier)
    assert QApplication.focusWidget() is not audit.since_edit


@pytest.mark.parametrize("name", ["customers", "segments", "campaigns", "settings", "users",
                                  "audit"])
def test_every_control_has_an_accessible_name(person_app: AppContext, qtbot: QtBot,
                                              name: str) -> None:
    window = person_app.window
    number = (*PAGES, *ADMIN_PAGES).index(name) + 1
    press(Key(Key.Key_0.value + number), Mod.ControlModifier, window)
    page = window.stack.currentWidget()
    assert page is not None
    unnamed = [describe(c) for c in focusable_controls(page) if not accessible_name(c)]
    assert not unnamed
    # Names are words for a person, never Qt's internal object names.
    internal = [accessible_name(c) for c in page.findChildren(QWidget)
                if accessible_name(c).lower().startswith("qt ")]
    assert not internal
    assert accessible_name(window.sidebar)


def test_focus_is_visible_on_the_sidebar(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    sidebar = window.sidebar
    press(Key.Key_1, Mod.ControlModifier, window)  # the focus goes into the page
    assert not sidebar.hasFocus()
    unfocused = sidebar.grab().toImage()
    click(sidebar, sidebar.visualItemRect(sidebar.currentItem()).center())
    qtbot.waitUntil(sidebar.hasFocus, timeout=3000)
    focused = sidebar.grab().toImage()
    assert focused != unfocused, "a person cannot see that the sidebar has the focus"
    # Arrow keys move between pages once the sidebar has the focus.
    press(Key.Key_Down)
    qtbot.waitUntil(lambda: _page_shown(person_app) == "segments", timeout=3000)


def test_segment_and_its_copy_read_differently(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    window.resize(1024, 640)
    press(Key.Key_2, Mod.ControlModifier, window)
    lst = window.segments_page.segment_list
    qtbot.waitUntil(lambda: lst.count() == 2, timeout=10_000)
    shown = []
    for row in range(2):
        item = lst.item(row)
        width = lst.visualItemRect(item).width() - 8
        shown.append(lst.fontMetrics().elidedText(item.text(), lst.textElideMode(), width))
        assert item.toolTip().startswith(item.text())  # the whole name on hover
    assert shown[0] != shown[1], shown
    assert lst.textElideMode() == Qt.TextElideMode.ElideMiddle


def test_window_shortcuts_work_from_the_keyboard(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    press(Key.Key_3, Mod.ControlModifier, window)
    press(Key.Key_F, Mod.ControlModifier, window)  # find customers
    qtbot.waitUntil(lambda: _page_shown(person_app) == "customers", timeout=3000)
    qtbot.waitUntil(window.customers_page.search.hasFocus, timeout=3000)
    press(Key.Key_N, Mod.ControlModifier, window)  # new segment
    qtbot.waitUntil(lambda: _page_shown(person_app) == "segments", timeout=3000)
    assert window.segments_page.name_edit.text() == "New segment"
    log = DialogLog()
    answer_dialog(log, key=Key.Key_Escape)
    press(Key.Key_E, Mod.ControlModifier, window)  # export the customers view
    qtbot.waitUntil(partial(_seen_once, log), timeout=10_000)
    qtbot.waitUntil(no_dialog_open, timeout=3000)
    assert "Export customers" in log.seen[0]
