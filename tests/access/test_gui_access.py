"""The Users and Audit pages (offscreen), and what a viewer's window lets them do."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from minicrm_desktop.services.access.actor import Actor, Role
from minicrm_desktop.services.access.audit import Action
from minicrm_desktop.services.access.users import list_domains, list_users
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.settings import MYSQL_REQUIRE_TLS, MYSQL_SSL_CA, Settings
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.access.audit_page import AuditPage
from minicrm_desktop.views.access.users_page import UsersPage
from minicrm_desktop.views.campaigns.control import CampaignControl
from minicrm_desktop.views.common.file_dialogs import SaveCsvDialog
from minicrm_desktop.views.settings.tls import MysqlTlsGroup
from minicrm_desktop.views.shell.main_window import MainWindow, Services
from tests.access.conftest import audit_rows

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


@pytest.fixture
def users_page(engine: Engine, runner: TaskRunner, bus: EventBus, team: dict[Role, Actor],
               qtbot: QtBot) -> UsersPage:
    page = UsersPage(engine, runner, bus, actor=team[Role.ADMIN])
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        bus.database_ready.emit()
    return page


def act(page: UsersPage, qtbot: QtBot, click: object) -> str:
    """Press a button; wait until the change is stored and the lists reloaded."""
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        click.click()  # type: ignore[attr-defined]
    return page.message.text()


def test_users_page_lists_adds_changes_and_deactivates(
    users_page: UsersPage, engine: Engine, team: dict[Role, Actor], qtbot: QtBot
) -> None:
    page = users_page
    assert [page.users_model.index(r, 0).data() for r in range(3)] == [
        "admin@crm.example", "marketer@crm.example", "viewer@crm.example"]
    assert page.users_model.index(0, 2).data() == "Admin"
    assert not page.role_button.isEnabled()  # nothing selected yet

    qtbot.keyClicks(page.email_edit, "Nina@CRM.example")
    qtbot.keyClicks(page.name_edit, "Nina")
    page.new_role_box.setCurrentIndex(list(Role).index(Role.VIEWER))
    assert act(page, qtbot, page.add_button) == "Added nina@crm.example as viewer."
    assert page.email_edit.text() == ""
    qtbot.waitUntil(lambda: page.selected_user() is not None
                    and page.selected_user().email == "nina@crm.example")  # type: ignore[union-attr]

    page.role_box.setCurrentIndex(list(Role).index(Role.MARKETER))
    assert act(page, qtbot, page.role_button) == "nina@crm.example is now marketer."
    assert page.active_button.text() == "Deactivate"
    assert act(page, qtbot, page.active_button) == "nina@crm.example is deactivated."
    qtbot.waitUntil(lambda: page.active_button.text() == "Reactivate")
    nina = next(u for u in list_users(engine, actor=team[Role.ADMIN])
                if u.email == "nina@crm.example")
    assert (nina.role, nina.active, nina.name) == (Role.MARKETER, False, "Nina")
    assert [r.action for r in audit_rows(engine)[-3:]] == [
        Action.USER_ADD, Action.USER_ROLE, Action.USER_DEACTIVATE]


def test_users_page_refusals_are_shown_and_change_nothing(
    users_page: UsersPage, engine: Engine, team: dict[Role, Actor], qtbot: QtBot
) -> None:
    page = users_page
    qtbot.keyClicks(page.email_edit, "not an email")
    page.add_button.click()
    qtbot.waitUntil(lambda: "is not an email address" in page.message.text(), timeout=10_000)
    page.select_user("admin@crm.example")
    page.role_box.setCurrentIndex(list(Role).index(Role.VIEWER))
    page.role_button.click()
    qtbot.waitUntil(lambda: "only active admin" in page.message.text(), timeout=10_000)
    assert len(list_users(engine, actor=team[Role.ADMIN])) == 3


def test_users_page_allows_and_removes_domains(
    users_page: UsersPage, engine: Engine, team: dict[Role, Actor], qtbot: QtBot
) -> None:
    page = users_page
    qtbot.keyClicks(page.domain_edit, "Agency.Example")
    page.domain_role_box.setCurrentIndex(list(Role).index(Role.MARKETER))
    assert act(page, qtbot, page.allow_button) == \
        "Anyone at agency.example may now sign in as marketer."
    assert page.domains_model.index(0, 0).data() == "agency.example"
    assert page.domains_model.index(0, 1).data() == "Marketer"
    assert not page.remove_domain_button.isEnabled()
    page.domains_table.selectRow(0)
    assert page.remove_domain_button.isEnabled()
    assert act(page, qtbot, page.remove_domain_button) == "agency.example is no longer allowed."
    assert page.domains_model.rowCount() == 0
    assert list_domains(engine, actor=team[Role.ADMIN]) == []


def test_audit_page_filters_and_exports(
    engine: Engine, runner: TaskRunner, bus: EventBus, team: dict[Role, Actor],
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = AuditPage(engine, runner, bus, actor=team[Role.ADMIN])
    qtbot.addWidget(page)
    page.resize(1100, 600)
    page.show()
    with qtbot.waitSignal(page.model.loaded, timeout=10_000):
        bus.database_ready.emit()
    total = len(audit_rows(engine))
    assert page.model.rowCount() == total
    assert page.model.index(0, 2).data() == Action.SIGN_IN  # newest first
    assert "issuer: https://accounts.google.com" in page.model.index(0, 3).data()

    with qtbot.waitSignal(page.model.loaded, timeout=10_000):
        page.action_box.setCurrentIndex(page.action_box.findData(Action.USER_ADD))
    assert page.model.rowCount() == 2
    with qtbot.waitSignal(page.model.loaded, timeout=10_000):
        qtbot.keyClicks(page.text_edit, "viewer@")
    assert [page.model.index(0, 3).data()] == ["email: viewer@crm.example · role: viewer"]
    assert page.message.text() == "1 entries"

    target = tmp_path / "audit.csv"
    monkeypatch.setattr(SaveCsvDialog, "ask", classmethod(lambda cls, *a, **k: target))
    with qtbot.waitSignal(page.exported, timeout=10_000) as exported:
        page.export_button.click()
    assert exported.args == [str(target), 1]
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["action"], r["user_email"]) for r in rows] == [
        (Action.USER_ADD, "admin@crm.example")]
    page.shutdown()


def window_for(actor: Actor, engine: Engine, runner: TaskRunner, bus: EventBus,
               settings: Settings, control: CampaignControl, qtbot: QtBot) -> MainWindow:
    window = MainWindow(Services(engine, bus, runner, settings, "test database", control,
                                 actor=actor))
    qtbot.addWidget(window)
    return window


def test_viewer_window_is_read_only(
    engine: Engine, runner: TaskRunner, bus: EventBus, settings: Settings,
    make_control: object, team: dict[Role, Actor], qtbot: QtBot,
) -> None:
    control = make_control(engine)  # type: ignore[operator]
    window = window_for(team[Role.VIEWER], engine, runner, bus, settings, control, qtbot)
    assert window.page_names == ("customers", "segments", "campaigns", "settings")
    assert window.users_page is None
    assert window.audit_page is None
    assert window.sidebar.count() == 4
    assert not window.import_action.isEnabled()
    assert not window.customers_page.import_button.isEnabled()
    # The window hands its user to the customers page: a viewer is offered no Edit.
    assert window.customers_page.detail.edit_button.isHidden()
    assert window.offer_demo_data() is None
    segments = window.segments_page
    for button in (segments.save_button, segments.rename_button, segments.duplicate_button,
                   segments.delete_segment_button):
        assert not button.isEnabled()
    assert not segments.save_action.isEnabled()
    # Nothing to tag or unsubscribe everyone in a segment with: no button, no menu entry.
    assert segments.bulk.button.isHidden()
    assert not any(action.isVisible() for action in segments.segment_list.actions())
    assert not segments.dirty  # nothing to save: closing never asks
    campaigns = window.campaigns_page
    assert not campaigns.new_button.isEnabled()
    assert "can view campaigns" in campaigns.new_button.toolTip()
    assert not campaigns.cancel_button.isEnabled()
    window.close()


def test_marketer_window_can_work_but_not_administer(
    engine: Engine, runner: TaskRunner, bus: EventBus, settings: Settings,
    make_control: object, team: dict[Role, Actor], qtbot: QtBot,
) -> None:
    control = make_control(engine)  # type: ignore[operator]
    window = window_for(team[Role.MARKETER], engine, runner, bus, settings, control, qtbot)
    assert window.users_page is None
    assert window.import_action.isEnabled()
    assert window.segments_page.save_button.isEnabled()
    assert window.campaigns_page.new_button.isEnabled()
    assert not window.customers_page.detail.edit_button.isHidden()
    assert not window.segments_page.bulk.button.isHidden()
    assert window.offer_demo_data() is None  # demo data is for admins
    window.close()


def test_admin_window_has_the_users_and_audit_pages(
    engine: Engine, runner: TaskRunner, bus: EventBus, settings: Settings,
    make_control: object, team: dict[Role, Actor], qtbot: QtBot,
) -> None:
    control = make_control(engine)  # type: ignore[operator]
    window = window_for(team[Role.ADMIN], engine, runner, bus, settings, control, qtbot)
    assert window.page_names[-2:] == ("users", "audit")
    assert [window.sidebar.item(r).text() for r in range(window.sidebar.count())][-2:] == [
        "Users", "Audit log"]
    window.show_page("users")
    assert window.current_page == "users"
    assert window.stack.currentWidget() is window.users_page
    window.close()


def test_mysql_tls_settings_are_saved_by_admins_and_audited(
    engine: Engine, runner: TaskRunner, settings: Settings, team: dict[Role, Actor],
    qtbot: QtBot, tmp_path: Path,
) -> None:
    viewer_group = MysqlTlsGroup(engine, runner, settings, actor=team[Role.VIEWER])
    qtbot.addWidget(viewer_group)
    assert not viewer_group.save_button.isEnabled()
    assert not viewer_group.ca_edit.isEnabled()

    group = MysqlTlsGroup(engine, runner, settings, actor=team[Role.ADMIN])
    qtbot.addWidget(group)
    ca = str(tmp_path / "crm-ca.pem")
    group.ca_edit.setText(ca)
    group.require_box.setChecked(True)
    with qtbot.waitSignal(group.saved, timeout=10_000) as saved:
        group.save_button.click()
    assert saved.args == ["Saved; used at the next start."]
    assert (settings.get(MYSQL_SSL_CA), settings.get(MYSQL_REQUIRE_TLS)) == (ca, True)
    changes = [r for r in audit_rows(engine) if r.action == Action.SETTING_CHANGE]
    assert [c.user_email for c in changes] == ["admin@crm.example"] * 2
    assert "database/mysql_ssl_ca" in changes[0].detail
    assert '"to": true' in changes[1].detail
