"""The Users page makes a person's own database account on a shared MariaDB database and
shows its one-time password once, with a Copy button."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from minicrm_desktop.services.access.actor import Role
from minicrm_desktop.services.access.users import add_user, admit, list_users
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.database import create_db_engine
from minicrm_desktop.services.core.settings import Settings
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.access.users_page import UsersPage
from minicrm_desktop.views.shell.main_window import MainWindow, Services
from tests.access.conftest import identity

pytestmark = pytest.mark.mysql


@pytest.fixture
def made_accounts(mysql_engine: Engine) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    with mysql_engine.connect() as conn:
        for name in made:
            conn.exec_driver_sql(f"DROP USER IF EXISTS `{name}`@`%%`")


def test_admin_makes_a_database_account_and_copies_its_password(
    mysql_engine: Engine, runner: TaskRunner, bus: EventBus, qtbot: QtBot,
    made_accounts: list[str],
) -> None:
    admin = admit(mysql_engine, identity("admin@crm.example"))
    add_user(mysql_engine, "mira@crm.example", role=Role.MARKETER, actor=admin)
    page = UsersPage(mysql_engine, runner, bus, actor=admin)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        bus.database_ready.emit()
    assert page.db_account_button.isVisible()
    assert not page.db_account_button.isEnabled()  # nobody selected yet

    row = page.users_model.row_of("mira@crm.example")
    assert row is not None
    rect = page.users_table.visualRect(page.users_model.index(row, 0))
    qtbot.mouseClick(page.users_table.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center())
    assert page.db_account_button.text() == "Create database account"
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        qtbot.mouseClick(page.db_account_button, Qt.MouseButton.LeftButton)
    dialog = page.credentials_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    account = dialog.account_edit.text()
    made_accounts.append(account)
    assert account.startswith("mira_")
    password = dialog.password_edit.text()
    assert len(password) >= 20
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == password
    assert dialog.copy_button.text() == "Copied"
    assert "pass its one-time password on privately" in page.message.text()

    # The password works, and the account has the marketer's role on the server.
    own = create_db_engine(make_url(mysql_engine.url).set(username=account, password=password))
    try:
        with own.connect() as conn:
            assert conn.execute(text("SELECT CURRENT_ROLE()")).scalar_one().endswith(
                "_marketer")
    finally:
        own.dispose()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert dialog.password_edit.text() == ""  # not kept after closing
    mira = next(u for u in list_users(mysql_engine, actor=admin) if u.email == "mira@crm.example")
    assert mira.db_account == account
    qtbot.waitUntil(lambda: page.db_account_button.text() == "New database password")
    assert page.users_model.index(row, 5).data() == account


def test_credentials_dialog_escapes_back_to_the_window(
    mysql_engine: Engine, runner: TaskRunner, bus: EventBus, settings: Settings,
    make_control: object, qtbot: QtBot, made_accounts: list[str],
) -> None:
    """From the admin's real window: Ctrl+5, the colleague's row, Create database account;
    Escape closes the password dialog, forgets the password, and leaves the Users page."""
    from tests.gui.person import back_to, click, press

    admin = admit(mysql_engine, identity("admin@crm.example"))
    add_user(mysql_engine, "noor@crm.example", role=Role.VIEWER, actor=admin)
    control = make_control(mysql_engine)  # type: ignore[operator]
    window = MainWindow(Services(mysql_engine, bus, runner, settings, "test database",
                                 control, actor=admin))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    back_to(window, qtbot)
    bus.database_ready.emit()
    press(Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier, window)
    qtbot.waitUntil(lambda: window.current_page == "users", timeout=3000)
    page = window.users_page
    assert page is not None
    assert page.isVisible()
    qtbot.waitUntil(lambda: page.users_model.row_of("noor@crm.example") is not None,
                    timeout=10_000)
    row = page.users_model.row_of("noor@crm.example")
    assert row is not None
    table = page.users_table
    click(table.viewport(), table.visualRect(page.users_model.index(row, 0)).center())
    click(page.db_account_button)
    qtbot.waitUntil(lambda: page.credentials_dialog is not None
                    and page.credentials_dialog.isVisible(), timeout=20_000)
    dialog = page.credentials_dialog
    assert dialog is not None
    made_accounts.append(dialog.account_edit.text())
    assert dialog.password_edit.text()
    press(Qt.Key.Key_Escape, widget=dialog.focusWidget() or dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)
    assert dialog.password_edit.text() == ""
    assert window.isVisible()
    assert window.current_page == "users"
    assert page.isVisible()
    window.close()
    qtbot.waitUntil(lambda: runner.active_count == 0, timeout=10_000)  # the page's reload
