"""The command line honours roles: `minicrm users …`, `minicrm audit`, and the data
commands, run as each role; and who the CLI acts as when no actor is given."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import Engine

from minicrm_desktop.cli.context import CliContext
from minicrm_desktop.cli.main import main
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, Actor, Role
from minicrm_desktop.services.access.audit import Action
from minicrm_desktop.services.access.users import list_users
from tests.access.conftest import audit_rows

EXIT_DENIED = 3


def test_embedded_database_without_sign_in_is_the_local_admin(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = CliContext(db=sqlite_url)
    try:
        assert ctx.actor() is LOCAL_ADMIN
    finally:
        ctx.close()
    assert main(["--db", sqlite_url, "users", "add", "Ana@Crm.Example", "--role",
                 "marketer", "--name", "Ana"]) == 0
    assert capsys.readouterr().out == "added ana@crm.example as marketer\n"
    assert main(["--db", sqlite_url, "users", "allow-domain", "crm.example"]) == 0
    assert main(["--db", sqlite_url, "users", "list"]) == 0
    out = capsys.readouterr().out
    assert "ana@crm.example\tmarketer\tlast sign-in never" in out
    assert "@crm.example\tviewer\t(allowed domain)" in out
    assert main(["--db", sqlite_url, "audit", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["action"], r["user_email"]) for r in rows] == [
        (Action.DOMAIN_ALLOW, "local"), (Action.USER_ADD, "local")]


@pytest.mark.parametrize("role", [Role.MARKETER, Role.VIEWER])
def test_admin_commands_refuse_other_roles(
    engine: Engine, db_url: str, team: dict[Role, Actor], role: Role,
    capsys: pytest.CaptureFixture[str],
) -> None:
    actor = team[role]
    before = audit_rows(engine)
    for argv in (["users", "add", "x@crm.example"], ["users", "list"],
                 ["users", "set-role", "viewer@crm.example", "admin"],
                 ["users", "deactivate", "viewer@crm.example"],
                 ["users", "allow-domain", "crm.example"], ["audit"]):
        assert main(["--db", db_url, *argv], actor=actor) == EXIT_DENIED
        err = capsys.readouterr().err
        assert err.startswith(f"minicrm: error: {role.value.capitalize()}s can't "), err
        assert err.count("\n") == 1
    assert audit_rows(engine) == before
    assert [u.role for u in list_users(engine, actor=team[Role.ADMIN])] == [
        Role.ADMIN, Role.MARKETER, Role.VIEWER]


def test_admin_manages_users_and_reads_the_audit_log(
    engine: Engine, db_url: str, team: dict[Role, Actor], capsys: pytest.CaptureFixture[str]
) -> None:
    admin = team[Role.ADMIN]
    assert main(["--db", db_url, "users", "set-role", "viewer@crm.example", "marketer"],
                actor=admin) == 0
    assert main(["--db", db_url, "users", "deactivate", "marketer@crm.example"],
                actor=admin) == 0
    assert main(["--db", db_url, "users", "add", "not-an-email"], actor=admin) == 2
    assert "'not-an-email' is not an email address" in capsys.readouterr().err
    assert main(["--db", db_url, "audit", "--action", "user.", "--user", admin.email],
                actor=admin) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[2] for line in lines] == [
        Action.USER_DEACTIVATE, Action.USER_ROLE, Action.USER_ADD, Action.USER_ADD]


def test_data_commands_honour_roles(
    engine: Engine, db_url: str, team: dict[Role, Actor], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "c.csv"
    path.write_text("email\na@shop.example\n", encoding="utf-8")
    viewer, marketer = team[Role.VIEWER], team[Role.MARKETER]
    assert main(["--db", db_url, "import", "customers", str(path)], actor=viewer) == 3
    assert "Viewers can't import data — ask an admin for the marketer role." in \
        capsys.readouterr().err
    assert main(["--db", db_url, "seed", "--customers", "3"], actor=marketer) == 3
    assert "Marketers can't add demo data — only an admin can." in capsys.readouterr().err
    assert main(["--db", db_url, "import", "customers", str(path)], actor=marketer) == 0
    newest = audit_rows(engine)[-1]
    assert (newest.action, newest.user_email) == (Action.IMPORT_CUSTOMERS, marketer.email)
    assert '"file": "c.csv"' in newest.detail
    assert '"imported": 1' in newest.detail


@pytest.mark.mysql
def test_a_mysql_database_needs_a_signed_in_user(
    mysql_database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.csv"
    path.write_text("email\na@shop.example\n", encoding="utf-8")
    assert main(["--db", mysql_database_url, "import", "customers", str(path)]) == 3
    err = capsys.readouterr().err
    assert "a database shared over MySQL needs a signed-in user" in err
    assert "minicrm login" in err


def test_with_sign_in_configured_the_cli_asks_for_a_session(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A provider is configured (it is never contacted: there is no session to renew).
    monkeypatch.setenv("MINICRM_DEV_IDP", "http://127.0.0.1:9")
    monkeypatch.setenv("MINICRM_SECRETS_PASSPHRASE", "correct horse battery staple")
    assert main(["--db", sqlite_url, "users", "list"]) == 3
    assert "sign in first with `minicrm login`" in capsys.readouterr().err


def test_users_add_without_a_role_gives_the_windows_default(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`users add` without --role gives the role the Users page preselects: viewer."""
    assert main(["--db", sqlite_url, "users", "add", "new@crm.example"]) == 0
    assert capsys.readouterr().out == "added new@crm.example as viewer\n"
    ctx = CliContext(db=sqlite_url)
    try:
        added = list_users(ctx.engine(), actor=LOCAL_ADMIN)
    finally:
        ctx.close()
    assert [(u.email, u.role) for u in added] == [("new@crm.example", Role.VIEWER)]
