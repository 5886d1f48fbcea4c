"""Roles the MariaDB server enforces: each person connects with their own database account,
made by an admin through the app, and the server refuses what their role may not do —
even as raw SQL typed by hand.

Real MariaDB: the accounts are made through the owner's procedures (the test database's
owner is root, who created it) with unique names, and dropped after each test.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.errors import DatabaseUnavailable
from minicrm_desktop.models.base import utcnow
from minicrm_desktop.models.campaign import CampaignStatus
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, SYSTEM, AccessDenied, Actor, Role
from minicrm_desktop.services.access.audit import Action, AuditFilter, audit_page, record
from minicrm_desktop.services.access.db_accounts import DbCredentials, create_db_account
from minicrm_desktop.services.access.db_roles import drop_database_roles, roles_installed
from minicrm_desktop.services.access.schema_guard import SchemaUpgradeNeeded
from minicrm_desktop.services.access.users import add_user, admit, set_active, set_role
from minicrm_desktop.services.campaigns import store
from minicrm_desktop.services.campaigns.engine import DeliveryEngine
from minicrm_desktop.services.campaigns.launch import create_campaign
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.database import create_db_engine
from minicrm_desktop.services.core.migrate import (
    alembic_config,
    current_revision,
    downgrade_to,
    head_revision,
    upgrade_to_head,
)
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.importing import import_customers
from minicrm_desktop.views.campaigns.control import CampaignControl
from tests.access.conftest import identity
from tests.campaigns.conftest import POPULATION, draft
from tests.helpers import write_csv

pytestmark = pytest.mark.mysql

EMAILS = {Role.ADMIN: "second-admin@crm.example", Role.MARKETER: "marketer@crm.example",
          Role.VIEWER: "viewer@crm.example"}


@dataclass
class Person:
    role: Role
    email: str
    credentials: DbCredentials
    url: str
    engine: Engine
    actor: Actor


@dataclass
class Team:
    root: Engine
    founder: Actor
    people: dict[Role, Person] = field(default_factory=dict)

    def __getitem__(self, role: Role) -> Person:
        return self.people[role]


def _drop_accounts(root: Engine, names: list[str]) -> None:
    with root.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f"DROP USER IF EXISTS `{name}`@`%%`")


@pytest.fixture
def team(mysql_engine: Engine, mysql_database_url: str) -> Iterator[Team]:
    """The founder (signed in over the owner's connection) adds an admin, a marketer and a
    viewer, makes each their own database account, and each signs in with it."""
    founder = admit(mysql_engine, identity("founder@crm.example"))
    crew = Team(mysql_engine, founder)
    made: list[str] = []
    try:
        for role, email in EMAILS.items():
            add_user(mysql_engine, email, role=role, actor=founder)
            name = f"t{secrets.token_hex(4)}_{role.value[:3]}"
            made.append(name)
            creds = create_db_account(mysql_engine, email, actor=founder, account=name)
            url = make_url(mysql_database_url).set(username=creds.account,
                                                   password=creds.password)
            rendered = url.render_as_string(hide_password=False)
            engine = create_db_engine(rendered)
            actor = admit(engine, identity(email))  # signing in needs its own grants too
            crew.people[role] = Person(role, email, creds, rendered, engine, actor)
        yield crew
    finally:
        for person in crew.people.values():
            person.engine.dispose()
        _drop_accounts(mysql_engine, made)


def refused(engine: Engine, sql: str) -> str:
    """Run `sql`; return the server's refusal (fails the test if the server obeyed)."""
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.exec_driver_sql(sql)
    return str(caught.value.orig)


TAMPERING = [
    "DELETE FROM audit_log",
    "UPDATE audit_log SET detail = '{}'",
    "TRUNCATE TABLE audit_log",
    "ALTER TABLE audit_log DROP COLUMN detail",
    "DROP TRIGGER audit_log_no_delete",
    "DROP TABLE customers",
    "ALTER TABLE customers ADD COLUMN x INT",
    "UPDATE users SET db_account = 'root'",
    "CREATE TABLE sneaky (id INT)",
]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("sql", TAMPERING)
def test_every_role_is_refused_by_the_server(team: Team, role: Role, sql: str) -> None:
    message = refused(team[role].engine, sql)
    assert "denied" in message.lower()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MARKETER])
def test_only_admins_may_write_roles(team: Team, role: Role) -> None:
    assert "denied" in refused(team[role].engine, "UPDATE users SET role = 'admin'")
    with team.root.connect() as conn:
        roles = conn.execute(text("SELECT role FROM users WHERE email = :e"),
                             {"e": team[role].email}).scalar_one()
    assert roles == role.value


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MARKETER])
def test_a_person_updates_only_their_own_sign_in_row(team: Team, role: Role) -> None:
    """Their grants name columns, not rows; a trigger keeps them to their own row."""
    person = team[role]
    other = "founder@crm.example"
    assert "only admins change other users" in refused(
        person.engine, f"UPDATE users SET name = 'Mallory' WHERE email = '{other}'")
    with person.engine.begin() as conn:
        conn.execute(text("UPDATE users SET name = 'Me' WHERE email = :e"), {"e": person.email})
    admin = team[Role.ADMIN]
    with admin.engine.begin() as conn:  # admins change anyone
        conn.execute(text("UPDATE users SET name = 'Fine' WHERE email = :e"), {"e": other})


def test_a_viewer_reads_but_writes_nothing(team: Team, tmp_path: Path) -> None:
    import_customers(team.root, write_csv(tmp_path / "c.csv", "email\na@x.example\n"),
                     actor=team.founder)
    viewer = team[Role.VIEWER].engine
    with viewer.connect() as conn:
        assert conn.execute(text("SELECT email FROM customers")).scalars().all() == [
            "a@x.example"]
    assert "denied" in refused(viewer, "UPDATE customers SET name = 'B'")
    assert "denied" in refused(viewer, "DELETE FROM customers")
    assert "denied" in refused(viewer, "INSERT INTO segments (name) VALUES ('x')")


def test_a_marketer_imports_and_sends_a_campaign_with_their_own_account(
    team: Team, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marketer = team[Role.MARKETER]
    people = write_csv(tmp_path / "people.csv", POPULATION)
    assert cli_main(["--db", marketer.url, "import", "customers", str(people)],
                    actor=marketer.actor) == 0
    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps({"combinator": "and", "rules": [
        {"field": "subscribed", "operator": "=", "value": True}]}))
    capsys.readouterr()
    code = cli_main(["--db", marketer.url, "campaign", "send", "--name", "Diwali", "--rule",
                     str(rule), "--message", "Hi {first_name|there}", "--ledger",
                     str(tmp_path / "ledger.db"), "--retry-seconds", "0.001", "--workers",
                     "2"], actor=marketer.actor)
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "completed"
    assert summary["sent"] + summary["failed"] + summary["skipped"] == 180


def _bulk_file(path: Path, rows: int) -> Path:
    """Customers with tags, over 1 MB: the MariaDB import sets indexes aside for it too."""
    lines = ["email,name,city,visits,subscribed,tags"]
    lines += [f"bulk{i}@example.com,Person {i} {'x' * 80},Pune,{i % 9},yes,vip|t{i % 5}"
              for i in range(rows)]
    return write_csv(path, "\n".join(lines) + "\n")


def test_a_marketers_own_account_imports_through_load_data_local(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture
) -> None:
    """The role may create the temporary staging table, so the bulk path is taken (before
    migration 0018 the probe failed and the import fell back to INSERTs)."""
    from minicrm_desktop.services.importing import staged

    staged_batches: list[int] = []
    real_stage = staged.stage

    def counted(conn: Any, columns: Any, rows: Sequence[Any], *rest: Any) -> None:
        staged_batches.append(len(rows))
        real_stage(conn, columns, rows, *rest)

    monkeypatch.setattr(staged, "stage", counted)
    caplog.set_level("INFO", logger="minicrm_desktop.services.importing.batches")
    marketer = team[Role.MARKETER]
    path = _bulk_file(tmp_path / "bulk.csv", 12_000)
    assert path.stat().st_size > 1024 * 1024
    report = import_customers(marketer.engine, path, actor=marketer.actor)
    assert (report.imported, len(report.rejected)) == (12_000, 0)
    assert "not LOAD DATA LOCAL" not in caplog.text
    assert sum(staged_batches) == 12_000
    with team.root.connect() as conn:
        assert conn.execute(text(
            "SELECT COUNT(*) FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id "
            "WHERE t.name = 'vip'")).scalar_one() == 12_000
        indexes = {r[2] for r in conn.execute(text("SHOW INDEX FROM customers"))}
    assert "ix_customers_email_rev" in indexes  # set aside and rebuilt


def test_a_viewer_may_not_create_temporary_tables_nor_import(
    team: Team, tmp_path: Path
) -> None:
    viewer = team[Role.VIEWER]
    assert "denied" in refused(viewer.engine, "CREATE TEMPORARY TABLE scratch (n INT)")
    for role in (Role.MARKETER, Role.ADMIN):
        with team[role].engine.connect() as conn:
            conn.exec_driver_sql("CREATE TEMPORARY TABLE scratch (n INT)")
    # The app refuses the viewer first; the server refuses the same writes by hand.
    with pytest.raises(AccessDenied):
        import_customers(viewer.engine, write_csv(tmp_path / "c.csv", "email\nv@x.example\n"),
                         actor=viewer.actor)
    assert "denied" in refused(viewer.engine,
                               "INSERT INTO customers (email, email_norm) VALUES ('v@x', 'v@x')")


def _temporary_tables_granted(root: Engine) -> dict[Role, bool]:
    with root.connect() as conn:
        database = conn.execute(text("SELECT DATABASE()")).scalar_one()
        return {role: any("CREATE TEMPORARY TABLES" in row[0] for row in conn.exec_driver_sql(
            f"SHOW GRANTS FOR `{database}_{role.value}`")) for role in Role}


def test_migration_0018_lets_the_importing_roles_of_an_older_database_stage(team: Team) -> None:
    everyone = {Role.ADMIN: True, Role.MARKETER: True, Role.VIEWER: False}
    assert _temporary_tables_granted(team.root) == everyone
    downgrade_to(team.root, "0017")
    assert not any(_temporary_tables_granted(team.root).values())
    cfg = alembic_config(team.root)  # the migration alone, not the roles' refresh after it
    with team.root.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0018")
    assert _temporary_tables_granted(team.root) == everyone
    with team.root.begin() as conn:  # the later migrations too: the next tests need head
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def test_the_server_names_the_account_behind_each_audit_entry(team: Team) -> None:
    marketer = team[Role.MARKETER]
    with marketer.engine.begin() as conn:
        record(conn, marketer.actor, Action.SEGMENT_CREATE, {"name": "mine"})
        # A client naming someone else's account is overruled by the server.
        conn.execute(text("INSERT INTO audit_log (at, user_id, user_email, action, detail, "
                          "db_account) VALUES (NOW(), NULL, 'x', 'forged', '{}', "
                          "'root@localhost')"))
    with team.root.connect() as conn:
        rows = conn.execute(text(
            "SELECT action, db_account FROM audit_log WHERE action IN "
            "('segment.create', 'forged') ORDER BY id")).all()
    assert [r.action for r in rows] == ["segment.create", "forged"]
    for row in rows:
        assert row.db_account.startswith(f"{marketer.credentials.account}@"), row
    # The audit log's readers see it too.
    shown = audit_page(team.root, AuditFilter(action="forged"), actor=team.founder)
    assert shown[0].db_account == rows[1].db_account


def test_a_demoted_marketer_can_no_longer_cancel(team: Team) -> None:
    marketer = team[Role.MARKETER]
    campaign_id = create_campaign(marketer.engine, draft(), actor=marketer.actor)
    set_role(team.root, marketer.email, Role.VIEWER, actor=team.founder)
    # The actor still says "marketer" (the role at sign-in); the stored role decides.
    assert marketer.actor.role is Role.MARKETER
    with pytest.raises(AccessDenied, match="Viewers can't pause, resume or cancel"):
        store.set_status(marketer.engine, campaign_id, CampaignStatus.CANCELLED,
                         [CampaignStatus.DRAFT], audit=(marketer.actor, Action.CAMPAIGN_CANCEL))
    # The server took the marketer's write grants back: from their next connection on (an
    # open MariaDB session keeps the role it turned on; the app's check above is at once).
    marketer.engine.dispose()
    assert "denied" in refused(marketer.engine, "UPDATE campaigns SET status = 'cancelled'")
    with marketer.engine.connect() as conn:
        assert conn.execute(text("SELECT CURRENT_ROLE()")).scalar_one().endswith("_viewer")
    with team.root.connect() as conn:
        status = conn.execute(text("SELECT status FROM campaigns WHERE id = :i"),
                              {"i": campaign_id}).scalar_one()
    assert status == CampaignStatus.DRAFT.value


def test_a_deactivated_persons_account_is_locked(team: Team) -> None:
    viewer = team[Role.VIEWER]
    set_active(team.root, viewer.email, False, actor=team.founder)
    viewer.engine.dispose()
    with pytest.raises(DBAPIError) as caught, viewer.engine.connect():
        pass
    assert "locked" in str(caught.value.orig).lower()
    set_active(team.root, viewer.email, True, actor=team.founder)
    with viewer.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM users")).scalar_one() == 4


@pytest.mark.parametrize("unsigned", [LOCAL_ADMIN, SYSTEM], ids=["local-admin", "system"])
def test_unsigned_actors_are_refused_on_a_shared_database(team: Team, unsigned: Actor) -> None:
    marketer = team[Role.MARKETER]
    campaign_id = create_campaign(marketer.engine, draft(), actor=marketer.actor)
    with pytest.raises(AccessDenied, match="shared over MySQL"):
        store.set_status(marketer.engine, campaign_id, CampaignStatus.CANCELLED,
                         [CampaignStatus.DRAFT], audit=(unsigned, Action.CAMPAIGN_CANCEL))
    with pytest.raises(AccessDenied, match="shared over MySQL"):
        create_campaign(marketer.engine, draft(), actor=unsigned)


def test_an_account_acts_only_as_its_own_user(team: Team) -> None:
    marketer = team[Role.MARKETER]
    with pytest.raises(AccessDenied, match="belongs to another MiniCRM user"):
        admit(marketer.engine, identity(EMAILS[Role.ADMIN]))
    assert admit(marketer.engine, identity(marketer.email)).role is Role.MARKETER


def test_a_person_without_an_account_of_their_own_is_told_so(team: Team) -> None:
    add_user(team.root, "newbie@crm.example", role=Role.MARKETER, actor=team.founder)
    with pytest.raises(AccessDenied, match="no database account of their own"):
        admit(team[Role.VIEWER].engine, identity("newbie@crm.example"))


def test_an_admins_own_account_makes_accounts_but_not_the_owners_powers(
    team: Team, caplog: pytest.LogCaptureFixture
) -> None:
    admin = team[Role.ADMIN]
    add_user(admin.engine, "late@crm.example", role=Role.VIEWER, actor=admin.actor)
    name = f"t{secrets.token_hex(4)}_late"
    try:
        caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # as with --debug
        made = create_db_account(admin.engine, "late@crm.example", actor=admin.actor,
                                 account=name)
        assert made.account == name
        assert len(made.password) >= 20
        assert "INSERT INTO audit_log" in caplog.text  # statements are being logged...
        assert made.password not in caplog.text  # ...but never the password
        assert made.password not in repr(made)
        # Admins may write roles (as the Users page does); never the audit log.
        with admin.engine.begin() as conn:
            conn.execute(text("UPDATE users SET role = 'marketer' "
                              "WHERE email = 'late@crm.example'"))
        assert "denied" in refused(admin.engine, "DELETE FROM audit_log")
    finally:
        _drop_accounts(team.root, [name])


@pytest.mark.parametrize("role", list(Role))
def test_no_persons_account_can_run_a_migration(team: Team, role: Role) -> None:
    with pytest.raises((DBAPIError, DatabaseUnavailable)) as caught:
        downgrade_to(team[role].engine, "0008")
    assert "denied" in str(caught.value).lower()
    assert current_revision(team.root) == head_revision(team.root)


def _drop_database(server: Engine, name: str, account: str) -> None:
    """Drop a database a test made, the account it made on it, and its server roles."""
    with server.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        conn.exec_driver_sql(f"DROP USER IF EXISTS `{account}`@`%%`")
        drop_database_roles(conn, name)
    server.dispose()


@pytest.fixture
def old_database(mysql_database_url: str) -> Iterator[tuple[str, Engine]]:
    """A database at schema 0008 (an older MiniCRM made it), and a viewer's account on it
    (granted by hand, as a DBA would have): (its URL, root's engine on it)."""
    server = create_db_engine(make_url(mysql_database_url).set(database=""))
    name, account = f"minicrm_test_old_{secrets.token_hex(4)}", f"t{secrets.token_hex(4)}_old"
    password = secrets.token_urlsafe(16)
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        conn.exec_driver_sql(f"CREATE USER `{account}`@`%%` IDENTIFIED BY '{password}'")
        conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{name}`.* "
                             f"TO `{account}`@`%%`")
    root = create_db_engine(make_url(mysql_database_url).set(database=name))
    cfg = alembic_config(root)
    with root.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
    url = make_url(mysql_database_url).set(database=name, username=account, password=password)
    try:
        yield url.render_as_string(hide_password=False), root
    finally:
        root.dispose()
        _drop_database(server, name, account)


def test_a_non_owner_opening_an_old_schema_is_told_to_ask_an_admin(
    old_database: tuple[str, Engine], capsys: pytest.CaptureFixture[str]
) -> None:
    url, root = old_database
    person = create_db_engine(url)
    try:
        with pytest.raises(SchemaUpgradeNeeded, match="ask an admin to upgrade this database"):
            upgrade_to_head(person)
    finally:
        person.dispose()
    assert cli_main(["--db", url, "init-db"]) == SchemaUpgradeNeeded.exit_code
    err = capsys.readouterr().err
    assert "is at schema version 0008" in err
    assert "ask an admin to upgrade" in err
    assert current_revision(root) == "0008"
    # The owner upgrades it, and that installs the roles.
    assert cli_main(["--db", root.url.render_as_string(hide_password=False), "init-db"]) == 0
    assert current_revision(root) == head_revision(root)
    with root.connect() as conn:
        assert roles_installed(conn)


def test_a_database_made_with_another_collation_still_signs_people_in(
    mysql_database_url: str,
) -> None:
    """A database made without the README's COLLATE takes the server's default (Debian's
    MariaDB: utf8mb4_general_ci), and so do the routines' strings unless they say
    otherwise: every update of `users` failed there with "Illegal mix of collations"."""
    server = create_db_engine(make_url(mysql_database_url).set(database=""))
    name, account = f"minicrm_test_gci_{secrets.token_hex(4)}", f"t{secrets.token_hex(4)}_gci"
    with server.connect() as conn:
        conn.exec_driver_sql(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    root = create_db_engine(make_url(mysql_database_url).set(database=name))
    person: Engine | None = None
    try:
        upgrade_to_head(root)
        founder = admit(root, identity("founder@crm.example"))
        add_user(root, "marketer@crm.example", role=Role.MARKETER, actor=founder)
        admit(root, identity("marketer@crm.example"))  # a first sign-in updates their row
        creds = create_db_account(root, "marketer@crm.example", actor=founder, account=account)
        person = create_db_engine(make_url(mysql_database_url).set(
            database=name, username=creds.account, password=creds.password))
        assert admit(person, identity("marketer@crm.example")).role == Role.MARKETER
        assert "only admins change other users" in refused(
            person, "UPDATE users SET name = 'Mallory' WHERE email = 'founder@crm.example'")
    finally:
        if person is not None:
            person.dispose()
        root.dispose()
        _drop_database(server, name, account)


def test_a_new_marketer_replaces_the_one_time_password_and_works_from_the_keyring(
    team: Team, tmp_path: Path
) -> None:
    """As a person does it: the real `minicrm` in processes of its own, the secrets in the
    encrypted file (no keyring on this machine)."""
    marketer = team[Role.MARKETER]
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "MINICRM_SECRETS_PASSPHRASE": "correct horse battery staple",
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    bare = make_url(marketer.url)._replace(password=None).render_as_string(hide_password=False)
    assert ":" not in bare.split("@")[0].split("//")[1]  # no password in the URL

    def minicrm(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "minicrm_desktop", "--db", bare, *args],
                              input=stdin, env=env, capture_output=True, text=True,
                              timeout=120, check=False)

    before = minicrm("init-db")  # nothing stored yet: the server refuses
    assert before.returncode != 0
    assert "Access denied" in before.stderr
    changed = minicrm("db-password", "--one-time", stdin=marketer.credentials.password + "\n")
    assert changed.returncode == 0, changed.stderr
    assert f"database account {marketer.credentials.account} was changed" in changed.stdout
    assert "encrypted file" in changed.stdout
    assert marketer.credentials.password not in changed.stdout + changed.stderr
    after = minicrm("init-db")  # connects with the stored password
    assert after.returncode == 0, after.stderr
    # The one-time password is spent.
    marketer.engine.dispose()
    with pytest.raises(DBAPIError, match="Access denied"), marketer.engine.connect():
        pass


def test_scheduled_campaigns_launch_from_a_marketers_app_not_a_viewers(
    team: Team, runner: TaskRunner, bus: EventBus, qtbot: QtBot, tmp_path: Path
) -> None:
    """On a shared database the app's scheduled work runs as the signed-in person (SYSTEM
    is refused there): a viewer's app leaves a due campaign to a marketer's."""
    marketer, viewer = team[Role.MARKETER], team[Role.VIEWER]
    import_customers(marketer.engine, write_csv(tmp_path / "people.csv", POPULATION),
                     actor=marketer.actor)
    due = create_campaign(marketer.engine, draft(scheduled_at=utcnow() + timedelta(hours=1)),
                          actor=marketer.actor)
    with team.root.begin() as conn:  # the clock moves on
        conn.execute(text("UPDATE campaigns SET scheduled_at = :t WHERE id = :i"),
                     {"t": utcnow() - timedelta(seconds=1), "i": due})
    controls = []
    for person in (viewer, marketer):
        delivery = DeliveryEngine(person.engine, workers=2, retry_base_seconds=0.01,
                                  ledger_path=tmp_path / "ledger.db")
        controls.append(CampaignControl(person.engine, runner, bus, delivery,
                                        scheduler=person.actor))
    viewers_app, marketers_app = controls
    try:
        viewers_app.launch_due()
        qtbot.waitUntil(lambda: runner.active_count == 0, timeout=10_000)
        with team.root.connect() as conn:
            status = conn.execute(text("SELECT status FROM campaigns WHERE id = :i"),
                                  {"i": due}).scalar_one()
        assert status == CampaignStatus.SCHEDULED.value
        with qtbot.waitSignal(bus.campaign_finished, timeout=30_000) as finished:
            marketers_app.launch_due()
        assert finished.args == [due, "completed"]
    finally:
        for control in controls:
            control.shutdown()
