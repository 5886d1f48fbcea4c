"""Editing a customer from the detail panel, with the keyboard, as a person would."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text

from minicrm_desktop.app import AppContext
from minicrm_desktop.services.access.actor import Actor, Role
from minicrm_desktop.services.core.database import create_db_engine
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.customers.detail import CustomerDetailPanel
from minicrm_desktop.views.customers.page import CustomersPage
from minicrm_desktop.views.customers.table_model import COLUMNS

from .conftest import SMALL_CUSTOMERS

Key = Qt.Key
CITY = next(i for i, c in enumerate(COLUMNS) if c.key == "city")


def _open_first(app_ctx: AppContext, qtbot: QtBot) -> tuple[CustomersPage, int]:
    """Click the first row, then press F2: the edit form opens on that customer."""
    page = app_ctx.window.customers_page
    qtbot.waitUntil(lambda: page.model.total == SMALL_CUSTOMERS, timeout=10_000)
    qtbot.waitUntil(lambda: page.model.customer_id(0) is not None, timeout=10_000)
    cid = page.model.customer_id(0)
    assert cid is not None
    with qtbot.waitSignal(page.detail.shown, timeout=5000):
        QTest.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier,
                         page.table.visualRect(page.model.index(0, 0)).center())
    assert page.detail.edit_button.isVisible()
    QTest.keyClick(page.table, Key.Key_F2)
    qtbot.waitUntil(page.detail.editor.isVisible, timeout=5000)
    return page, cid


def _retype(edit: QLineEdit, value: str) -> None:
    QTest.mouseClick(edit, Qt.MouseButton.LeftButton)
    QTest.keyClick(edit, Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(edit, value)


def _city_in_db(app_ctx: AppContext, cid: int) -> str | None:
    with app_ctx.engine.connect() as conn:
        return conn.execute(text("SELECT city FROM customers WHERE id = :c"),
                            {"c": cid}).scalar_one()


def test_edit_city_with_keys_shows_in_table(app_ctx: AppContext, qtbot: QtBot) -> None:
    page, cid = _open_first(app_ctx, qtbot)
    _retype(page.detail.city_edit, "Shillong")
    QTest.keyClick(page.detail.city_edit, Key.Key_Return)
    qtbot.waitUntil(lambda: page.model.data(page.model.index(0, CITY)) == "Shillong"
                    and page.model.customer_id(0) == cid, timeout=10_000)
    assert not page.detail.editor.isVisible()
    assert _city_in_db(app_ctx, cid) == "Shillong"
    qtbot.waitUntil(lambda: page.detail.fields["city"].text() == "Shillong", timeout=5000)


def test_escape_discards_the_edit(app_ctx: AppContext, qtbot: QtBot) -> None:
    page, cid = _open_first(app_ctx, qtbot)
    before = _city_in_db(app_ctx, cid)
    _retype(page.detail.city_edit, "Nowhere")
    QTest.keyClick(page.detail.city_edit, Key.Key_Escape)
    assert not page.detail.editor.isVisible()
    assert _city_in_db(app_ctx, cid) == before
    assert page.model.data(page.model.index(0, CITY)) != "Nowhere"


def test_stale_edit_says_so_and_keeps_the_values(app_ctx: AppContext, qtbot: QtBot,
                                                  seeded_url: str) -> None:
    page, cid = _open_first(app_ctx, qtbot)
    other = create_db_engine(seeded_url)  # another window or process changes the customer
    with other.begin() as conn:
        conn.execute(text("UPDATE customers SET city = 'Elsewhere', city_norm = 'elsewhere' "
                          "WHERE id = :c"), {"c": cid})
    other.dispose()
    _retype(page.detail.city_edit, "Mine")
    QTest.keyClick(page.detail.city_edit, Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "changed elsewhere" in page.detail.edit_message.text(),
                    timeout=5000)
    assert "city" in page.detail.edit_message.text()
    assert page.detail.editor.isVisible()
    assert page.detail.city_edit.text() == "Mine"
    assert _city_in_db(app_ctx, cid) == "Elsewhere"


def test_bad_value_is_named_in_the_panel(app_ctx: AppContext, qtbot: QtBot) -> None:
    page, cid = _open_first(app_ctx, qtbot)
    _retype(page.detail.tags_edit, "a|b")
    QTest.keyClick(page.detail.tags_edit, Key.Key_Return)
    qtbot.waitUntil(lambda: "tags" in page.detail.edit_message.text(), timeout=5000)
    assert "|" in page.detail.edit_message.text()
    assert page.detail.tags_edit.text() == "a|b"


def test_viewer_has_no_edit_button(seeded_engine: Engine, runner: TaskRunner,
                                   qtbot: QtBot) -> None:
    viewer = Actor(user_id=7, email="v@example.com", name="V", role=Role.VIEWER)
    panel = CustomerDetailPanel(seeded_engine, runner, actor=viewer)
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.shown, timeout=5000):
        panel.show_customer(1)
    assert not panel.edit_button.isVisible()
    panel.start_edit()
    assert not panel.editor.isVisible()
