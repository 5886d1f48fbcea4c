"""`minicrm db-password`: keep the MySQL password in the keyring (or the encrypted secrets
file), bound to the server and account of the database URL, so the URL can leave it out."""

from __future__ import annotations

import argparse
import sys

from minicrm_desktop.services.core.database import (
    MYSQL_PASSWORD_ENV,
    is_sqlite,
    mysql_password_name_for,
)
from minicrm_desktop.services.core.redact import register_secret
from minicrm_desktop.services.core.secrets import (
    SecretStore,
    default_secret_store,
    terminal_passphrase,
)

from ..errors import ConfigError
from .context import CliContext

EXIT_OK = 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = commands.add_parser(
        "db-password",
        help="store the MySQL password for the database URL's user, host and port",
        description="Store the MySQL password for the user, host and port of the database URL "
        "(give the URL without a password). It is read from the terminal, or from the first "
        "line of standard input, never from the command line; it is sent only to that "
        "server, and to a server on another machine only over TLS. "
        f"{MYSQL_PASSWORD_ENV} takes precedence over it.",
    )
    what = cmd.add_mutually_exclusive_group()
    what.add_argument("--forget", action="store_true", help="delete the stored password")
    what.add_argument(
        "--one-time", action="store_true",
        help="for your own account on a shared database: the password given is the one-time "
        "password your admin passed on; MiniCRM changes it to a new random one that only "
        "your keyring (or encrypted secrets file) knows, and uses that from then on")
    cmd.set_defaults(handler=_db_password)


def _db_password(ctx: CliContext, args: argparse.Namespace) -> int:
    url = ctx.url
    if is_sqlite(url):
        raise ConfigError("the database is a SQLite file: it has no password")
    if url.password is not None:
        raise ConfigError("the database URL already carries a password: give it without one")
    name = mysql_password_name_for(url)
    where = name.split(":", 1)[1]
    store = default_secret_store(terminal_passphrase)
    if args.forget:
        store.delete(name)
        print(f"forgot the MySQL password for {where}")
        return EXIT_OK
    if args.one_time:
        return _replace_one_time(ctx, store, where)
    password = _read_password(where)
    register_secret(password)
    store.set(name, password)
    print(f"stored the MySQL password for {where} in {store.description}")
    return EXIT_OK


def _replace_one_time(ctx: CliContext, store: SecretStore, where: str) -> int:
    from minicrm_desktop.services.core.database import MysqlTls

    from ..services.access.own_password import replace_one_time_password

    one_time = _read_password(where, prompt="One-time database password from your admin")
    register_secret(one_time)
    account, kept = replace_one_time_password(
        ctx.url, one_time, store, tls=MysqlTls.configured(ctx.settings()))
    print(f"The password of the database account {account} was changed; only {kept} "
          "knows the new one, and MiniCRM uses it from now on.")
    return EXIT_OK


def _read_password(where: str, *, prompt: str = "MySQL password") -> str:
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"{prompt} for {where}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise ConfigError("no password given")
    return password
