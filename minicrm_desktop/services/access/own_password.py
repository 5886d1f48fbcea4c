"""A person's first use of their database account: the one-time password an admin passed
on is replaced by a random one that only their keyring (or encrypted secrets file) holds.
Nobody else, the admin included, knows it afterwards."""

from __future__ import annotations

import secrets

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from minicrm_desktop.services.core.database import (
    MysqlTls,
    check_connection,
    create_db_engine,
    describe_url,
    is_sqlite,
    mysql_password_name_for,
)
from minicrm_desktop.services.core.secrets import SecretStore

from ...errors import ConfigError, DatabaseUnavailable
from .db_accounts import secret_execute
from .db_roles import session_account

NEW_PASSWORD_BYTES = 24


def replace_one_time_password(
    url: URL, one_time: str, store: SecretStore, *, tls: MysqlTls | None = None
) -> tuple[str, str]:
    """Connect with `one_time`, store a new random password, then make it the account's.
    Returns (the account, where the password is kept). The stored value is put back if
    the server refuses the change, so the keyring never holds a password that fails."""
    if is_sqlite(url):
        raise ConfigError("database passwords are for a database shared over MySQL/MariaDB")
    if url.password is not None:
        raise ConfigError("leave the password out of the database URL: MiniCRM keeps it "
                          "in the keyring")
    if not one_time:
        raise ConfigError("no one-time password was given")
    engine = create_db_engine(url.set(password=one_time), tls=tls)
    try:
        check_connection(engine)
        new = secrets.token_urlsafe(NEW_PASSWORD_BYTES)
        name = mysql_password_name_for(url)  # bound to this server and account
        before = store.get(name)
        store.set(name, new)
        try:
            with engine.begin() as conn:
                account = session_account(conn)
                # Changing one's own password needs no privilege this way (MariaDB's
                # ALTER USER asks for CREATE USER even on oneself).
                own = ("SET PASSWORD = PASSWORD(%s)" if getattr(conn.dialect, "is_mariadb", False)
                       else "ALTER USER USER() IDENTIFIED BY %s")
                secret_execute(conn, own, (new,))
        except DBAPIError as exc:
            if before is None:
                store.delete(name)
            else:
                store.set(name, before)
            args = getattr(exc.orig, "args", ())
            raise DatabaseUnavailable(
                f"the password could not be changed on {describe_url(url)}: "
                f"{args[-1] if args else 'refused'}") from None
        return account, store.description
    finally:
        engine.dispose()
