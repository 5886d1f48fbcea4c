"""Checks that hold on both engines: every change re-reads the stored role (pause, resume
and cancel included), the audit log's account column is the server's, `init-db` mends
missing audit triggers, and the database-account commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from minicrm_desktop.cli.main import main
from minicrm_desktop.models.campaign import CampaignStatus
from minicrm_desktop.services.access.actor import AccessDenied, Actor, Role
from minicrm_desktop.services.access.audit import Action
from minicrm_desktop.services.access.users import set_role
from minicrm_desktop.services.campaigns import store
from minicrm_desktop.services.campaigns.engine import DeliveryEngine
from minicrm_desktop.services.core.database import create_db_engine
from tests.access.conftest import audit_rows
from tests.access.test_permissions import World, world  # noqa: F401  (fixture)


def test_set_status_rereads_the_stored_role(
    world: World, team: dict[Role, Actor]  # noqa: F811
) -> None:
    marketer = team[Role.MARKETER]
    set_role(world.engine, marketer.email, Role.VIEWER, actor=team[Role.ADMIN])
    with pytest.raises(AccessDenied, match="^Viewers can't pause, resume or cancel"):
        store.set_status(world.engine, world.paused_id, CampaignStatus.CANCELLED,
                         [CampaignStatus.PAUSED], audit=(marketer, Action.CAMPAIGN_CANCEL))
    assert store.load_plan(world.engine, world.paused_id).status == "paused"  # type: ignore[union-attr]


def test_a_demoted_marketers_cancel_through_the_delivery_engine_does_nothing(
    world: World, team: dict[Role, Actor], qtbot: QtBot, tmp_path: Path  # noqa: F811
) -> None:
    """The engine's check passes on the role held at sign-in; the writer's status change
    re-reads the stored one and refuses. The admin's cancel, queued after it, is what
    changes the campaign (had the marketer's gone through, it would have found nothing
    to change and no signal would come)."""
    admin, marketer = team[Role.ADMIN], team[Role.MARKETER]
    set_role(world.engine, marketer.email, Role.VIEWER, actor=admin)
    delivery = DeliveryEngine(world.engine, workers=1, ledger_path=tmp_path / "ledger.db")
    try:
        with qtbot.waitSignal(delivery.status_changed, timeout=20_000) as changed:
            delivery.cancel(world.paused_id, actor=marketer)  # stale "marketer" actor
            delivery.cancel(world.paused_id, actor=admin)
        assert changed.args == [world.paused_id, "cancelled"]
    finally:
        delivery.shutdown()
        delivery.deleteLater()
    cancels = [r for r in audit_rows(world.engine) if r.action == Action.CAMPAIGN_CANCEL]
    assert [r.user_email for r in cancels] == [admin.email]


def test_no_client_writes_the_audit_account(engine: Engine) -> None:
    insert = ("INSERT INTO audit_log (at, user_id, user_email, action, detail, db_account) "
              "VALUES (CURRENT_TIMESTAMP, NULL, 'x@y.example', 'forged', '{}', 'someone')")
    if engine.dialect.name == "sqlite":
        with pytest.raises(DBAPIError, match="set by the server"), engine.begin() as conn:
            conn.exec_driver_sql(insert)
        return
    with engine.begin() as conn:
        conn.exec_driver_sql(insert)
        account = conn.execute(text("SELECT db_account FROM audit_log")).scalar_one()
        assert account.startswith("root@")  # the session's own account, not "someone"


def test_init_db_makes_missing_audit_triggers_again(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        conn.exec_driver_sql("INSERT INTO audit_log (at, user_email, action, detail) "
                             "VALUES (CURRENT_TIMESTAMP, 'a@b.example', 'x', '{}')")
    assert main(["--db", db_url, "init-db"]) == 0
    assert "audit_log_no_delete was missing: made it again" in capsys.readouterr().out
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_log")
    assert main(["--db", db_url, "init-db"]) == 0
    assert "was missing" not in capsys.readouterr().out


def test_database_accounts_need_a_shared_database(
    sqlite_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    from minicrm_desktop.services.access.actor import LOCAL_ADMIN
    from minicrm_desktop.services.access.users import list_users

    url = sqlite_engine.url.render_as_string()
    assert main(["--db", url, "users", "add", "a@crm.example", "--db-account"],
                actor=LOCAL_ADMIN) == 2
    assert "shared over MySQL/MariaDB" in capsys.readouterr().err
    assert list_users(sqlite_engine, actor=LOCAL_ADMIN) == []  # nothing half-done


@pytest.mark.mysql
def test_cli_adds_a_user_with_their_own_database_account(
    mysql_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    import secrets

    from minicrm_desktop.services.access.users import admit
    from tests.access.conftest import identity

    admin = admit(mysql_engine, identity("admin@crm.example"))
    url = mysql_engine.url.render_as_string(hide_password=False)
    name = f"t{secrets.token_hex(4)}_cli"
    try:
        assert main(["--db", url, "users", "add", "new@crm.example", "--role", "marketer",
                     "--db-account", name], actor=admin) == 0
        out = capsys.readouterr().out
        assert f"database account for new@crm.example: {name}" in out
        password = out.split("one-time password: ")[1].split()[0]
        own = create_db_engine(make_url(url).set(username=name, password=password))
        try:
            with own.connect() as conn:
                assert conn.execute(text("SELECT CURRENT_ROLE()")).scalar_one().endswith(
                    "_marketer")
        finally:
            own.dispose()
        assert main(["--db", url, "users", "list"], actor=admin) == 0
        assert f"database account {name}" in capsys.readouterr().out
        rows = [r for r in audit_rows(mysql_engine) if r.action == Action.USER_DB_ACCOUNT]
        assert [r.detail for r in rows] == [f'{{"db_account": "{name}", '
                                            '"email": "new@crm.example"}']
        assert password not in "".join(r.detail for r in audit_rows(mysql_engine))
    finally:
        with mysql_engine.connect() as conn:
            conn.exec_driver_sql(f"DROP USER IF EXISTS `{name}`@`%%`")


def test_every_table_has_a_place_in_the_server_roles() -> None:
    """A new table must be given to a role in services/access/db_roles.py (or on a shared
    database nobody but the owner could write it)."""
    from minicrm_desktop.models import Base
    from minicrm_desktop.services.access import db_roles

    placed = {*db_roles.MARKETER_DATA, *db_roles.MARKETER_WORK, *db_roles.ADMIN_TABLES,
              *db_roles.SPECIAL_TABLES, *db_roles.OWNER_TABLES}
    assert {t.name for t in Base.metadata.sorted_tables} == placed
