"""Layout and the local-mode lock-out warning, as a person meets them (issue 16): the window
at 1024x640, the collapsible detail panel, the column chooser remembered in the settings,
the Users page's columns and its local admin, and the warning before a lock-out."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from minicrm_desktop.app import AppContext
from minicrm_desktop.services.access.users import list_users
from minicrm_desktop.services.core.settings import CUSTOMER_HIDDEN_COLUMNS, Settings
from minicrm_desktop.views.customers.table_model import COLUMNS

from .conftest import close_app, start_app
from .person import (
    DialogLog,
    Key,
    Mod,
    answer_dialog,
    answer_popup,
    back_to,
    click,
    press,
    type_text,
)


def test_usable_at_1024_by_640(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    window.resize(1024, 640)
    qtbot.waitUntil(lambda: window.width() == 1024 and window.height() == 640, timeout=3000)
    page = window.customers_page
    qtbot.waitUntil(lambda: page.count_label.text() == "3,000 customers", timeout=20_000)
    table = page.table
    # The Name column is on screen, at the left, with no horizontal scrolling.
    assert table.horizontalScrollBar().value() == 0
    assert table.columnViewportPosition(0) == 0
    assert table.columnWidth(0) > 60
    # The detail panel opens for a selected customer, and collapses from the keyboard.
    click(table.viewport(), table.visualRect(page.model.index(0, 0)).center())
    qtbot.waitUntil(page.detail.isVisible, timeout=5000)
    click(page.detail_button)
    assert not page.detail.isVisible()
    assert table.width() > page.width() - 60  # the table takes the room
    page.detail_button.setFocus()
    press(Key.Key_Space)
    qtbot.waitUntil(page.detail.isVisible, timeout=5000)
    # Every page fits: none needs the page area to scroll sideways.
    for number in range(1, 7):
        press(Key(Key.Key_0.value + number), Mod.ControlModifier, window)
        bar = window.page_area.horizontalScrollBar()
        assert not bar.isVisible(), f"page {number} is wider than a 1024 px window"


def test_column_chooser_is_remembered(person_app: AppContext, qtbot: QtBot,
                                      settings: Settings, seeded_url: str) -> None:
    page = person_app.window.customers_page
    phone = next(i for i, c in enumerate(COLUMNS) if c.key == "phone")
    assert not page.table.isColumnHidden(phone)
    log = DialogLog()
    # Down to "Phone" in the menu, then Return toggles it off.
    answer_popup(log, choose="Phone")
    click(page.columns_button)
    qtbot.waitUntil(lambda: len(log.seen) == 1, timeout=3000)
    qtbot.waitUntil(lambda: page.table.isColumnHidden(phone), timeout=3000)
    assert "phone" in settings.get(CUSTOMER_HIDDEN_COLUMNS).split(",")


def test_hidden_columns_come_back_hidden(seeded_url: str, settings: Settings,
                                         qtbot: QtBot) -> None:
    settings.set(CUSTOMER_HIDDEN_COLUMNS, "phone,subscribed")
    ctx = start_app(seeded_url, settings, qtbot)
    try:
        table = ctx.window.customers_page.table
        hidden = [c.key for i, c in enumerate(COLUMNS) if table.isColumnHidden(i)]
        assert hidden == ["phone", "subscribed"]
    finally:
        close_app(ctx, qtbot)


def test_users_page_lists_the_local_admin_with_readable_columns(
        person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    window.resize(1024, 640)
    press(Key.Key_5, Mod.ControlModifier, window)
    users = window.users_page
    assert users is not None
    qtbot.waitUntil(lambda: users.users_model.rowCount() >= 1, timeout=10_000)
    first = [str(users.users_model.index(0, c).data()) for c in range(5)]
    assert first[:3] == ["local", "Local user", "Admin"]
    table = users.users_table
    metrics = table.fontMetrics()
    for column, title in enumerate(("Email", "Name", "Role")):
        assert table.columnWidth(column) >= metrics.horizontalAdvance(title) + 12, title
    assert users.new_role_box.currentText() == "Viewer"  # as on the command line


def test_local_mode_warns_before_a_lock_out(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    press(Key.Key_5, Mod.ControlModifier, window)
    users = window.users_page
    assert users is not None
    qtbot.waitUntil(lambda: users.users_model.rowCount() >= 1, timeout=10_000)
    assert not users.lockout_warning.isVisible()
    click(users.email_edit)
    type_text("colleague@example.com")
    # Escape on the warning: nobody is added.
    log = DialogLog()
    answer_dialog(log, key=Key.Key_Escape)
    click(users.add_button)
    qtbot.waitUntil(lambda: len(log.seen) == 1, timeout=5000)
    assert "locked out" in log.seen[0]
    assert "Nobody was added" in users.message.text()
    assert list_users(person_app.engine, actor=person_app.actor) == []
    # "Add anyway": added, and the page keeps warning.
    back_to(window, qtbot)
    log = DialogLog()
    answer_dialog(log, button="anyway")
    click(users.add_button)
    qtbot.waitUntil(lambda: users.users_model.row_of("colleague@example.com") is not None,
                    timeout=10_000)
    qtbot.waitUntil(users.lockout_warning.isVisible, timeout=5000)
    assert "admin" in users.lockout_warning.text()


def test_audit_log_headers_read_whole(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    press(Key.Key_6, Mod.ControlModifier, window)
    audit = window.audit_page
    assert audit is not None
    qtbot.waitUntil(lambda: audit.message.text().endswith("entries"), timeout=10_000)
    header = audit.table.horizontalHeader()
    metrics = header.fontMetrics()
    model = audit.table.model()
    for column in range(model.columnCount()):
        title = str(model.headerData(column, Qt.Orientation.Horizontal))
        assert header.sectionSize(column) >= metrics.horizontalAdvance(title) + 8, title
    assert header.length() <= audit.table.viewport().width() + 1  # no sideways scrolling


def test_pages_seen_before_do_not_size_the_one_shown(person_app: AppContext,
                                                     qtbot: QtBot) -> None:
    """In the narrowest window (760x520), after a visit to every page, the settings page
    fits: the customers page, wider than that, no longer sets the page area's size."""
    window = person_app.window
    window.resize(760, 520)
    qtbot.waitUntil(lambda: window.width() == 760 and window.height() == 520, timeout=3000)
    for number in (*range(1, 7), 4):
        press(Key(Key.Key_0.value + number), Mod.ControlModifier, window)
    qtbot.waitUntil(lambda: window.settings_page.isVisible(), timeout=3000)
    QTest.qWait(0)  # the page area lays out on the next event-loop turn
    area = window.page_area
    assert not area.horizontalScrollBar().isVisible(), "the settings page scrolls sideways"
    assert not area.verticalScrollBar().isVisible(), "the settings page scrolls"
