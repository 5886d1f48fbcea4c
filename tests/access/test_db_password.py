"""The MySQL password: any characters work, from the URL (percent-encoded), the environment
or the secret store; it never shows in output, errors, dialogs or the log file; a stored
password goes only to the server and account it was stored for, and to another machine only
over TLS."""

from __future__ import annotations

import io
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, make_url

from minicrm_desktop.app import LOG_FILE_NAME, configure_logging, open_database
from minicrm_desktop.cli.main import main
from minicrm_desktop.errors import ConfigError, DatabaseUnavailable
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.core.database import (
    MysqlTls,
    check_connection,
    create_db_engine,
    is_loopback,
    mysql_password_name,
    mysql_password_name_for,
    resolve_database_url,
)
from minicrm_desktop.services.core.paths import log_dir
from minicrm_desktop.services.core.secrets import MYSQL_PASSWORD, default_secret_store
from minicrm_desktop.services.core.settings import (
    MYSQL_REQUIRE_TLS,
    QSettingsStore,
    Settings,
)
from minicrm_desktop.services.core.tasks import job_engine
from minicrm_desktop.views.shell.errors import ErrorReporter

from .rogue_mysql import RogueMysqlServer, native_scramble

PASSPHRASE = "correct horse battery staple"


def _forms(password: str) -> list[str]:
    """The spellings a leak could take."""
    return [password, quote(password, safe=""), quote_plus(password), quote(password)]


def _assert_absent(password: str, *outputs: str) -> None:
    for output in outputs:
        for form in _forms(password):
            assert form not in output


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    """No keyring in the tests: the encrypted secrets file, opened from the environment."""
    monkeypatch.setenv("MINICRM_SECRETS_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("MINICRM_MYSQL_PASSWORD", raising=False)
    monkeypatch.delenv("MINICRM_MYSQL_REQUIRE_TLS", raising=False)
    monkeypatch.delenv("MINICRM_MYSQL_SSL_CA", raising=False)


@pytest.fixture
def rogue() -> Iterator[RogueMysqlServer]:
    server = RogueMysqlServer()
    yield server
    server.close()


# --- binding and TLS: no MariaDB needed ----------------------------------------------------


def test_loopback_means_this_machine_by_address() -> None:
    for host in ("localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "LocalHost"):
        assert is_loopback(host), host
    for host in ("db.example.com", "10.0.0.1", "127.0.0.1.nip.io", "192.168.1.2", ""):
        assert not is_loopback(host), host


def test_the_secret_name_binds_user_host_and_port() -> None:
    names = {
        mysql_password_name("bob", "127.0.0.1", 3306),
        mysql_password_name("bob", "127.0.0.1", 13306),
        mysql_password_name("alice", "127.0.0.1", 3306),
        mysql_password_name("bob", "localhost", 3306),
    }
    assert len(names) == 4
    assert mysql_password_name("bob", "DB.Example.com", None) == mysql_password_name(
        "bob", "db.example.com", 3306)
    assert mysql_password_name_for(make_url("mysql+pymysql://bob@db:3307/crm")) == (
        mysql_password_name("bob", "db", 3307))


@pytest.mark.usefixtures("passphrase")
def test_a_stored_password_never_reaches_another_server(
    rogue: RogueMysqlServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A password-less URL naming a rogue server on 127.0.0.1: the password stored for the
    real server (same user, and the same user on the rogue's host under another port or
    account, or under the old name tied to no server) is not sent, neither scrambled nor in
    clear when the server asks for it."""
    password = f"Rog%@/:#{secrets.token_hex(6)}"
    store = default_secret_store()
    store.set(MYSQL_PASSWORD, password)  # as an older MiniCRM kept it
    store.set(mysql_password_name("bob", "127.0.0.1", 3306), password)
    store.set(mysql_password_name("alice", "127.0.0.1", rogue.port), password)
    store.set(mysql_password_name("bob", "localhost", rogue.port), password)
    engine = create_db_engine(f"mysql+pymysql://bob@127.0.0.1:{rogue.port}/crm")
    try:
        with pytest.raises(DatabaseUnavailable, match="rogue server"):
            check_connection(engine)
    finally:
        engine.dispose()
    assert rogue.connections >= 1
    received = rogue.all_bytes
    assert b"bob\x00" in received  # it did sign in, as bob, without a password
    assert password.encode() not in received
    assert native_scramble(password.encode()) not in received
    assert "store it again with `minicrm db-password`" in caplog.text

    # The rogue does catch a password a client offers: the check above can fail.
    explicit = URL.create("mysql+pymysql", username="bob", password=password,
                          host="127.0.0.1", port=rogue.port, database="crm")
    engine = create_db_engine(explicit)
    try:
        with pytest.raises(DatabaseUnavailable) as denied:
            check_connection(engine)
    finally:
        engine.dispose()
    assert password.encode() in rogue.all_bytes
    _assert_absent(password, str(denied.value))


@pytest.mark.usefixtures("passphrase")
def test_a_password_stored_for_a_server_goes_to_that_server(rogue: RogueMysqlServer) -> None:
    password = f"Mine%@/:#{secrets.token_hex(6)}"
    default_secret_store().set(mysql_password_name("bob", "127.0.0.1", rogue.port), password)
    engine = create_db_engine(f"mysql+pymysql://bob@127.0.0.1:{rogue.port}/crm")
    try:
        with pytest.raises(DatabaseUnavailable) as denied:
            check_connection(engine)
    finally:
        engine.dispose()
    assert native_scramble(password.encode()) in rogue.all_bytes
    _assert_absent(password, str(denied.value))


def _stop_before_network(engine: Any, seen: dict[str, Any]) -> None:
    def capture(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        seen.update(cparams)
        raise RuntimeError("stop before the network")

    event.listen(engine, "do_connect", capture)


@pytest.mark.usefixtures("passphrase")
def test_a_stored_password_goes_to_another_machine_only_over_tls() -> None:
    password = f"Far%@/:#{secrets.token_hex(6)}"
    url = "mysql+pymysql://crm@db.example.invalid:3306/crm"
    default_secret_store().set(mysql_password_name_for(make_url(url)), password)

    engine = create_db_engine(url, tls=MysqlTls())
    seen: dict[str, Any] = {}
    _stop_before_network(engine, seen)
    try:
        with pytest.raises(ConfigError, match="only over TLS, and TLS is off") as refused:
            check_connection(engine)
    finally:
        engine.dispose()
    assert seen == {}  # refused before any connection was attempted
    assert "db.example.invalid:3306" in str(refused.value)
    assert "Require TLS" in str(refused.value)
    _assert_absent(password, str(refused.value))

    engine = create_db_engine(url, tls=MysqlTls(require=True))
    _stop_before_network(engine, seen)
    try:
        with pytest.raises(RuntimeError, match="stop before"):
            engine.connect()
    finally:
        engine.dispose()
    assert seen["password"] == password
    assert seen["ssl"].check_hostname


@pytest.mark.usefixtures("passphrase")
def test_helper_processes_connect_with_the_apps_tls_settings() -> None:
    """Imports and demo data run in a helper process with an engine of its own: it takes TLS
    from the same settings file as the window, not only from the environment."""
    url = "mysql+pymysql://crm:pw@db.example.invalid:3306/crm"
    seen: dict[str, Any] = {}
    engine = job_engine(url)
    _stop_before_network(engine, seen)
    with pytest.raises(RuntimeError, match="stop before"):
        engine.connect()
    engine.dispose()
    assert "ssl" not in seen
    settings = Settings(QSettingsStore())
    settings.set(MYSQL_REQUIRE_TLS, True)
    settings.sync()
    engine = job_engine(url)
    _stop_before_network(engine, seen)
    with pytest.raises(RuntimeError, match="stop before"):
        engine.connect()
    engine.dispose()
    assert seen["ssl"].check_hostname


def test_an_unencoded_at_sign_in_the_url_password_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="must be percent-encoded") as bad:
        resolve_database_url("mysql+pymysql://crm:pa@ss-word@db.local:3306/crm")
    assert "ss-word" not in str(bad.value)
    assert "pa@ss" not in str(bad.value)


# --- against MariaDB ------------------------------------------------------------------------


@pytest.fixture
def odd_account(mysql_database_url: str) -> Iterator[URL]:
    """A MariaDB account whose password holds % @ / : # and an empty database it owns;
    the URL (with the password) of that database. Both are dropped afterwards."""
    server = make_url(mysql_database_url)
    tag = secrets.token_hex(4)
    name, database = f"crm_pw_{tag}", f"crm_pw_{tag}"
    password = f"P%@/:#w'd{secrets.token_hex(8)}"
    admin = create_db_engine(server)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 "
                              "COLLATE utf8mb4_unicode_ci"))
            conn.execute(text(f"CREATE USER '{name}'@'%' IDENTIFIED BY :pw"), {"pw": password})
            conn.execute(text(f"GRANT ALL ON `{database}`.* TO '{name}'@'%'"))
    except Exception as exc:  # an account without CREATE USER: nothing to test here
        admin.dispose()
        pytest.skip(f"cannot create a MariaDB user: {str(exc).splitlines()[0]}")
    yield URL.create("mysql+pymysql", username=name, password=password,
                     host=server.host or "127.0.0.1", port=server.port or 3306,
                     database=database)
    with admin.begin() as conn:
        conn.execute(text(f"DROP USER IF EXISTS '{name}'@'%'"))
        conn.execute(text(f"DROP DATABASE IF EXISTS `{database}`"))
    admin.dispose()


def _tables(url: URL) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv, actor=LOCAL_ADMIN)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.mysql
@pytest.mark.usefixtures("passphrase")
def test_the_command_line_works_with_the_password_from_each_source(
    odd_account: URL, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    password = str(odd_account.password)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # main() installs its own
    caplog.set_level(logging.DEBUG)
    encoded = odd_account.render_as_string(hide_password=False)
    assert quote(password, safe="") in encoded

    # 1. Percent-encoded in MINICRM_DATABASE_URL: creates the schema (Alembic included).
    monkeypatch.setenv("MINICRM_DATABASE_URL", encoded)
    code, out, err = _cli(["init-db"], capsys)
    assert (code, err) == (0, "")
    assert f"database ready: MySQL server {odd_account.host}:{odd_account.port}/" in out
    assert "customers" in _tables(odd_account)
    outputs = [out, err]

    # 2. A URL without it, and the password in MINICRM_MYSQL_PASSWORD.
    bare = odd_account._replace(password=None).render_as_string(hide_password=False)
    monkeypatch.setenv("MINICRM_DATABASE_URL", bare)
    monkeypatch.setenv("MINICRM_MYSQL_PASSWORD", password)
    code, out, err = _cli(["init-db"], capsys)
    assert (code, err) == (0, "")
    outputs += [out, err]
    monkeypatch.delenv("MINICRM_MYSQL_PASSWORD")

    # 3. Stored with `minicrm db-password` (read from standard input), then used.
    code, out, err = _cli(["init-db"], capsys)  # nothing stored yet: refused by the server
    assert code == 1
    assert "Access denied" in err
    outputs += [out, err]
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    code, out, err = _cli(["db-password"], capsys)
    assert code == 0
    assert f"stored the MySQL password for {odd_account.username}@" in out
    outputs += [out, err]
    code, out, err = _cli(["init-db"], capsys)
    assert (code, err) == (0, "")
    outputs += [out, err]

    # A wrong database name: the error says so, without the password.
    wrong = odd_account.set(database=f"{odd_account.database}_nope")
    for url in (wrong.render_as_string(hide_password=False),
                wrong._replace(password=None).render_as_string(hide_password=False)):
        monkeypatch.setenv("MINICRM_DATABASE_URL", url)
        code, out, err = _cli(["init-db"], capsys)
        assert code == 1
        assert f"{odd_account.database}_nope" in err
        assert "cannot open the database" in err
        outputs += [out, err]
    _assert_absent(password, *outputs, caplog.text)


@pytest.mark.mysql
@pytest.mark.usefixtures("passphrase")
def test_a_separate_cli_process_shows_no_password_even_with_debug(
    odd_account: URL, tmp_path: Path
) -> None:
    password = str(odd_account.password)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINICRM_MYSQL")}
    wrong = odd_account.set(database=f"{odd_account.database}_nope")
    runs = []
    for debug in ([], ["--debug"]):
        runs.append(subprocess.run(
            [sys.executable, "-m", "minicrm_desktop", *debug, "--db",
             wrong.render_as_string(hide_password=False), "init-db"],
            env=env, capture_output=True, text=True, timeout=120))
    assert runs[0].returncode == 1
    assert runs[0].stderr.startswith("minicrm: error: cannot open the database")
    assert "Traceback" in runs[1].stderr  # --debug shows the traceback…
    assert "DatabaseUnavailable" in runs[1].stderr
    _assert_absent(password, *(r.stdout + r.stderr for r in runs))  # …without the password


@pytest.mark.mysql
@pytest.mark.usefixtures("passphrase")
def test_the_app_opens_and_migrates_and_its_log_and_dialogs_keep_the_password(
    odd_account: URL, qtbot: QtBot
) -> None:
    password = str(odd_account.password)
    root = logging.getLogger()
    before = list(root.handlers)
    configure_logging(debug=True)
    reporter = ErrorReporter()
    try:
        # The app's own path: the engine from the URL, then connect + migrate.
        engine = create_db_engine(odd_account, tls=MysqlTls())
        try:
            assert open_database(engine).is_empty
        finally:
            engine.dispose()
        assert "campaigns" in _tables(odd_account)

        # The stored password, from the secret store: the same.
        bare = odd_account._replace(password=None)
        default_secret_store().set(mysql_password_name_for(bare), password)
        engine = create_db_engine(bare, tls=MysqlTls())
        try:
            assert open_database(engine).is_empty
        finally:
            engine.dispose()

        # A wrong database, as the app reports it: the log and the error dialog.
        engine = create_db_engine(odd_account.set(database="nope_" + secrets.token_hex(3)))
        try:
            with pytest.raises(DatabaseUnavailable) as failed:
                open_database(engine)
        finally:
            engine.dispose()
        with qtbot.waitSignal(reporter.shown, timeout=5000) as shown:
            reporter.excepthook(DatabaseUnavailable, failed.value, None)
        expected = shown.args[0]
        assert "cannot open the database" in expected.message_label.text()

        # Even a bug whose message happens to carry the password is shown and logged without.
        plain_url = odd_account.render_as_string(hide_password=False)
        try:
            raise RuntimeError(f"connect failed for {plain_url}")
        except RuntimeError as exc:
            with qtbot.waitSignal(reporter.shown, timeout=5000) as shown:
                reporter.excepthook(RuntimeError, exc, exc.__traceback__)
        bug = shown.args[0]
        assert "connect failed for mysql+pymysql://" in bug.message_label.text()
        logging.getLogger("minicrm_desktop.test").warning("url was %s", plain_url)
        dialogs = [expected.message_label.text(), expected.details,
                   bug.message_label.text(), bug.details]
    finally:
        for handler in root.handlers:
            if handler not in before:
                handler.close()
                root.removeHandler(handler)
        for dialog in list(reporter.dialogs):
            dialog.close()
    log_text = (log_dir() / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert "cannot open the database" in log_text
    assert "connect failed for mysql+pymysql://" in log_text
    assert "url was mysql+pymysql://" in log_text
    _assert_absent(password, log_text, *dialogs)
