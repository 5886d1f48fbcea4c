"""The app's composition root with an actor, and the Sign-in section of Settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from minicrm_desktop.app import AppContext, bootstrap
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, Actor, Role
from minicrm_desktop.services.access.audit import AuditFilter, iter_audit
from minicrm_desktop.services.auth.config import GOOGLE_CLIENT_SECRETS
from minicrm_desktop.services.auth.session import sign_in
from minicrm_desktop.services.core.secrets import REFRESH_TOKEN, SecretStore
from minicrm_desktop.services.core.settings import DictStore, Settings
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.settings.account import AccountGroup
from minicrm_desktop.views.settings.changes import SettingChanges

from .fake_google import FakeGoogle, follow_in_browser

MARKETER = Actor(7, "ana.lima@example.com", "Ana Lima", Role.MARKETER)


def _start(url: str, qtbot: QtBot, **kwargs: object) -> AppContext:
    ctx = bootstrap(url, settings=Settings(DictStore()), offer_demo=False, **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(ctx.window)
    with qtbot.waitSignal(ctx.bus.database_ready, timeout=20_000):
        pass
    return ctx


def _close(ctx: AppContext, qtbot: QtBot) -> None:
    ctx.window.close()
    ctx.campaigns.shutdown()
    ctx.runner.shutdown()
    qtbot.waitUntil(lambda: ctx.runner.active_count == 0, timeout=10_000)
    ctx.engine.dispose()


def _account_label(ctx: AppContext) -> str:
    from PySide6.QtWidgets import QLabel

    label = ctx.window.findChild(QLabel, "account_status")
    assert label is not None
    return label.text()


def test_local_mode_says_so(sqlite_url: str, qtbot: QtBot) -> None:
    ctx = _start(sqlite_url, qtbot)
    try:
        assert ctx.actor.user_id is None
        assert ctx.window.services.actor == ctx.actor
        assert _account_label(ctx) == "Local mode — single user, no sign-in"
        group = ctx.window.settings_page.findChild(AccountGroup, "settings_account")
        assert group is not None
        assert not group.sign_out_button.isEnabled()
    finally:
        _close(ctx, qtbot)


def test_signed_in_actor_reaches_the_window(sqlite_url: str, qtbot: QtBot) -> None:
    ctx = _start(sqlite_url, qtbot, actor=MARKETER)
    try:
        assert ctx.actor == MARKETER
        assert ctx.window.services.actor == MARKETER
        assert _account_label(ctx) == "Signed in as ana.lima@example.com (marketer)"
        group = ctx.window.settings_page.findChild(AccountGroup, "settings_account")
        assert group is not None
        assert group.sign_out_button.isEnabled()
        assert not group.choose_button.isEnabled()  # only admins change settings
    finally:
        _close(ctx, qtbot)


def test_sign_out_button_revokes(
    qtbot: QtBot, fake_google: FakeGoogle, file_secrets: SecretStore, runner: TaskRunner,
    sqlite_engine: Engine,
) -> None:
    config = fake_google.config()
    sign_in(config, file_secrets, open_browser=follow_in_browser, timeout_s=20)
    token = file_secrets.get(REFRESH_TOKEN)
    changes = SettingChanges(sqlite_engine, runner, MARKETER)
    group = AccountGroup(MARKETER, Settings(DictStore()), runner, file_secrets, config=config,
                         changes=changes)
    qtbot.addWidget(group)
    with qtbot.waitSignal(group.signed_out, timeout=20_000) as done:
        group.sign_out_button.click()
    assert done.args == ["Signed out, and the session was revoked at Google."]
    assert fake_google.revoked == [token]
    assert file_secrets.get(REFRESH_TOKEN) is None


def test_secret_store_is_found_when_the_section_is_first_seen(
    qtbot: QtBot, file_secrets: SecretStore, runner: TaskRunner, sqlite_engine: Engine,
) -> None:
    """Finding the keyring (an import and a D-Bus call) waits until the section shows, so
    it does not compete with the window's first paint."""
    asked: list[str] = []

    def find() -> SecretStore:
        asked.append("asked")
        return file_secrets

    group = AccountGroup(LOCAL_ADMIN, Settings(DictStore()), runner, find_secrets=find,
                         changes=SettingChanges(sqlite_engine, runner, LOCAL_ADMIN))
    qtbot.addWidget(group)
    qtbot.waitUntil(lambda: runner.active_count == 0)  # nothing started in the background
    assert asked == []
    assert group.secrets_where.text() == "…"
    group.show()
    qtbot.waitUntil(lambda: group.secrets_where.text() == file_secrets.description)
    group.hide()
    group.show()
    assert asked == ["asked"]  # once


def test_choosing_client_secrets_checks_the_file(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner: TaskRunner,
    sqlite_engine: Engine,
) -> None:
    from PySide6.QtWidgets import QMessageBox

    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warned.append(text))
    settings = Settings(DictStore())
    admin = LOCAL_ADMIN
    group = AccountGroup(admin, settings, runner, config=None,
                         changes=SettingChanges(sqlite_engine, runner, admin))
    qtbot.addWidget(group)
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    assert not group.use_client_secrets(bad)
    assert 'has no "installed" section' in warned[0]
    assert settings.get(GOOGLE_CLIENT_SECRETS) == ""

    good = tmp_path / "client.json"
    good.write_text('{"installed": {"client_id": "1.apps.googleusercontent.com", '
                    '"client_secret": "s", "auth_uri": "https://accounts.google.com/o/oauth2/auth",'
                    ' "token_uri": "https://oauth2.googleapis.com/token"}}', encoding="utf-8")
    with qtbot.waitSignal(group.client_saved):
        assert group.use_client_secrets(good)
    assert settings.get(GOOGLE_CLIENT_SECRETS) == str(good)
    audited = list(iter_audit(sqlite_engine, AuditFilter(), actor=admin))
    assert any(GOOGLE_CLIENT_SECRETS.key in str(row) for row in audited)
    assert "Google" in group.client.text()


def test_start_up_without_oauth_client(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox
    from sqlalchemy.engine import make_url

    from minicrm_desktop.app import open_database
    from minicrm_desktop.services.access.actor import LOCAL_ADMIN
    from minicrm_desktop.views.access import sign_in_at_start

    monkeypatch.delenv("MINICRM_DEV_IDP", raising=False)
    monkeypatch.delenv("MINICRM_GOOGLE_CLIENT_SECRETS", raising=False)
    settings = Settings(DictStore())
    # Embedded database, no OAuth client: the local admin, no window.
    assert sign_in_at_start(make_url(sqlite_url), settings, open_database) == LOCAL_ADMIN

    # Shared MySQL, no OAuth client: offered to choose one; declining means no start.
    asked: list[str] = []

    def question(_parent: object, _title: str, text: str, *_args: object) -> object:
        asked.append(text)
        return QMessageBox.StandardButton.Close

    monkeypatch.setattr(QMessageBox, "question", question)
    mysql = make_url("mysql+pymysql://crm@db.example.com/crm")
    assert sign_in_at_start(mysql, settings, open_database) is None
    assert "shared over MySQL, so everyone signs in" in asked[0]
