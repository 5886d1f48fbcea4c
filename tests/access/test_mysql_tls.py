"""MySQL connections: verified TLS when asked for, the password from the keyring (or the
encrypted secrets file) when the URL has none, and no password in any message."""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from minicrm_desktop.errors import ConfigError, DatabaseUnavailable
from minicrm_desktop.services.core.database import (
    MysqlTls,
    check_connection,
    create_db_engine,
    describe_url,
    mysql_password_name_for,
)
from minicrm_desktop.services.core.secrets import default_secret_store
from minicrm_desktop.services.core.settings import (
    MYSQL_REQUIRE_TLS,
    MYSQL_SSL_CA,
    DictStore,
    Settings,
)

REMOTE = "mysql+pymysql://crm:{password}@db.example.invalid:3306/crm"


def test_environment_overrides_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(DictStore())
    assert MysqlTls.configured(settings) == MysqlTls("", False)
    settings.set(MYSQL_SSL_CA, "/etc/ssl/crm-ca.pem")
    assert MysqlTls.configured(settings) == MysqlTls("/etc/ssl/crm-ca.pem", False)
    monkeypatch.setenv("MINICRM_MYSQL_SSL_CA", "/other/ca.pem")
    monkeypatch.setenv("MINICRM_MYSQL_REQUIRE_TLS", "1")
    assert MysqlTls.configured(settings) == MysqlTls("/other/ca.pem", True)
    monkeypatch.setenv("MINICRM_MYSQL_REQUIRE_TLS", "no")
    settings.set(MYSQL_REQUIRE_TLS, True)
    assert not MysqlTls.configured(settings).require


def test_tls_engines_verify_the_server(tmp_path: Path) -> None:
    engine = create_db_engine(REMOTE.format(password="pw"), tls=MysqlTls(require=True))
    seen: dict[str, Any] = {}

    def capture(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        seen.update(cparams)
        raise RuntimeError("stop before the network")

    event.listen(engine, "do_connect", capture)
    try:
        with pytest.raises(RuntimeError, match="stop before"):
            engine.connect()
    finally:
        engine.dispose()
    context = seen["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


def test_a_missing_or_broken_ca_file_is_a_clear_error(tmp_path: Path) -> None:
    url = REMOTE.format(password="hunter2-secret")
    with pytest.raises(ConfigError, match=r"CA certificate file .*nope\.pem does not exist"):
        create_db_engine(url, tls=MysqlTls(ca_file=str(tmp_path / "nope.pem")))
    broken = tmp_path / "broken.pem"
    broken.write_text("not a certificate", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not a PEM certificate") as failed:
        create_db_engine(url, tls=MysqlTls(ca_file=str(broken)))
    assert "hunter2" not in str(failed.value)


@pytest.mark.mysql
def test_requiring_tls_refuses_a_server_without_it(mysql_database_url: str) -> None:
    """The test server offers no TLS: the connection is refused before any password is
    sent, with a message that names neither the password nor the URL's secret parts."""
    with_password = make_url(mysql_database_url).set(password="hunter2-secret")
    engine = create_db_engine(with_password, tls=MysqlTls(require=True))
    try:
        with pytest.raises(DatabaseUnavailable) as refused:
            check_connection(engine)
    finally:
        engine.dispose()
    message = str(refused.value)
    assert "SSL" in message or "TLS" in message
    assert "hunter2" not in message
    assert describe_url(with_password) in message


@pytest.fixture
def mysql_user(mysql_database_url: str) -> Iterator[tuple[str, str]]:
    """A MariaDB account with a random password, allowed on the test database."""
    url = make_url(mysql_database_url)
    name, password = f"crm_{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    admin = create_db_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE USER '{name}'@'%' IDENTIFIED BY :pw"), {"pw": password})
            conn.execute(text(f"GRANT SELECT ON `{url.database}`.* TO '{name}'@'%'"))
    except Exception as exc:  # an account without CREATE USER: nothing to test here
        admin.dispose()
        pytest.skip(f"cannot create a MariaDB user: {str(exc).splitlines()[0]}")
    yield name, password
    with admin.begin() as conn:
        conn.execute(text(f"DROP USER '{name}'@'%'"))
    admin.dispose()


@pytest.mark.mysql
def test_password_comes_from_the_secret_store_and_stays_out_of_the_url(
    mysql_database_url: str, mysql_user: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name, password = mysql_user
    # No keyring in the test session: the encrypted file, opened with the env passphrase.
    monkeypatch.setenv("MINICRM_SECRETS_PASSPHRASE", "correct horse battery staple")
    url = make_url(mysql_database_url).set(username=name, password=None)
    engine = create_db_engine(url)
    try:
        with pytest.raises(DatabaseUnavailable, match="Access denied") as denied:
            check_connection(engine)  # nothing stored yet
    finally:
        engine.dispose()
    assert password not in str(denied.value)
    default_secret_store().set(mysql_password_name_for(url), password)
    engine = create_db_engine(url)
    try:
        check_connection(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT CURRENT_USER()")).scalar_one().startswith(name)
        assert engine.url.password is None
        assert password not in engine.url.render_as_string(hide_password=False)
    finally:
        engine.dispose()
