"""Opening the database: URL resolution, engine tuning per dialect, sessions, migrations."""

from __future__ import annotations

import ipaddress
import logging
import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from minicrm_desktop.errors import ConfigError, DatabaseUnavailable
from minicrm_desktop.services.core.deferred_engine import DATABASE_URL_ENV
from minicrm_desktop.services.core.paths import default_database_path
from minicrm_desktop.services.core.redact import register_secret, scrub

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from minicrm_desktop.services.core.settings import Settings

MYSQL_SSL_CA_ENV = "MINICRM_MYSQL_SSL_CA"
MYSQL_REQUIRE_TLS_ENV = "MINICRM_MYSQL_REQUIRE_TLS"
#: The MySQL password for a URL that has none, ahead of the one kept in the secret store.
MYSQL_PASSWORD_ENV = "MINICRM_MYSQL_PASSWORD"
MYSQL_DEFAULT_PORT = 3306

log = logging.getLogger(__name__)

#: How long a SQLite writer waits for another's lock before failing: long enough for an
#: import's batch, or the index rebuild that ends a bulk load, elsewhere on the same file.
SQLITE_BUSY_TIMEOUT_S = 60
#: Each connection's page cache may grow to this (KiB)...
SQLITE_CACHE_KIB = 48 * 1024
#: ...but all of SQLite's memory in the process is held near this (bytes; process-wide): past
#: it, caches recycle their oldest pages instead of growing. The pool keeps up to 5
#: connections, and 5 caches of 128 MiB had taken the app to 620 MB with a million customers.
#: The OS keeps the file's pages cached anyway, so a count slows little.
SQLITE_HEAP_LIMIT = 48 * 2**20


@dataclass(frozen=True)
class MysqlTls:
    """TLS for MySQL/MariaDB connections. A CA file implies TLS is required and the
    server's certificate (and host name) verified against it; `require` alone verifies
    against the system's CAs."""

    ca_file: str = ""
    require: bool = False

    @property
    def enabled(self) -> bool:
        return bool(self.ca_file) or self.require

    @classmethod
    def from_environment(cls, fallback: MysqlTls | None = None) -> MysqlTls:
        """MINICRM_MYSQL_SSL_CA and MINICRM_MYSQL_REQUIRE_TLS=1 override `fallback`
        (the settings)."""
        base = fallback or cls()
        ca = os.environ.get(MYSQL_SSL_CA_ENV, "").strip() or base.ca_file
        flag = os.environ.get(MYSQL_REQUIRE_TLS_ENV, "").strip().lower()
        require = flag in ("1", "true", "yes") if flag else base.require
        return cls(ca_file=ca, require=require)

    @classmethod
    def configured(cls, settings: Settings | None) -> MysqlTls:
        """The settings' choice, overridden by the environment."""
        if settings is None:
            return cls.from_environment()
        from minicrm_desktop.services.core.settings import MYSQL_REQUIRE_TLS, MYSQL_SSL_CA

        return cls.from_environment(
            cls(ca_file=settings.get(MYSQL_SSL_CA).strip(),
                require=settings.get(MYSQL_REQUIRE_TLS)))

    def ssl_context(self) -> ssl.SSLContext:
        cafile = None
        if self.ca_file:
            path = Path(self.ca_file).expanduser()
            if not path.is_file():
                raise ConfigError(f"the MySQL CA certificate file {path} does not exist")
            cafile = str(path)
        try:
            return ssl.create_default_context(cafile=cafile)
        except ssl.SSLError as exc:
            raise ConfigError(
                f"the MySQL CA certificate file {cafile} is not a PEM certificate: "
                f"{exc.reason or exc}"
            ) from None


def resolve_database_url(explicit: str | None = None) -> URL:
    """`--db` first, then MINICRM_DATABASE_URL, then the embedded SQLite file."""
    raw = explicit or os.environ.get(DATABASE_URL_ENV)
    if not raw:
        path = default_database_path()
        return URL.create("sqlite", database=str(path))
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            "the database URL is not valid; expected sqlite:///path/crm.db or "
            "mysql+pymysql://user:pass@host:3306/crm"
        ) from None
    if url.get_backend_name() not in ("sqlite", "mysql", "mariadb"):
        raise ConfigError(
            f"unsupported database {url.get_backend_name()!r}: use SQLite or MySQL/MariaDB"
        )
    register_secret(url.password if isinstance(url.password, str) else None)
    if url.host and "@" in url.host:
        # An unencoded "@" in the password: the rest of it was read as the host name.
        raise ConfigError(
            "the database URL is not valid: characters such as @ / : # % in its password "
            "must be percent-encoded (@ as %40, / as %2F, : as %3A, # as %23, % as %25), "
            f"or leave the password out and set {MYSQL_PASSWORD_ENV} or store it with "
            "`minicrm db-password`"
        )
    return url


def describe_url(url: URL) -> str:
    """A human description of the database, never including the password."""
    if is_sqlite(url):
        return f"Embedded database {url.database}"
    port = f":{url.port}" if url.port else ""
    return f"MySQL server {url.host}{port}/{url.database}"


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the GUI's counts) run while an import writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute(f"PRAGMA soft_heap_limit={SQLITE_HEAP_LIMIT}")
    cursor.execute("PRAGMA temp_store=MEMORY")
    # A bulk load lets the WAL grow to ~200 MB (services/bulkload/indexes.py); give the space back
    # once it has been checkpointed.
    cursor.execute("PRAGMA journal_size_limit=67108864")
    cursor.close()


def create_db_engine(
    url: URL | str, *, echo: bool = False, tls: MysqlTls | None = None,
    load_local_files: bool = False,
) -> Engine:
    """Create an engine tuned for the dialect. Does not connect yet.

    MySQL: `tls` (default: from the environment) turns on verified TLS. A URL without a
    password takes MINICRM_MYSQL_PASSWORD, else the one kept in the secret store for that
    user, host and port, fetched when the first connection opens (on that connection's
    thread); neither is ever put in the URL, so it appears nowhere. A stored password goes
    to another machine only over verified TLS. `load_local_files` (MySQL, bulk loads only):
    connections that send the server the files services/bulkload/load_local.py arms, and no
    other.
    """
    url = make_url(url) if isinstance(url, str) else url
    try:
        if is_sqlite(url):
            if url.database and url.database != ":memory:":
                Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}
            )
            event.listen(engine, "connect", _sqlite_on_connect)
            return engine
        if "charset" not in url.query:
            url = url.update_query_dict({"charset": "utf8mb4"})
        tls = tls if tls is not None else MysqlTls.from_environment()
        connect_args: dict[str, Any] = {
            "connect_timeout": 10,
            "local_infile": False,
            "init_command": "SET time_zone = '+00:00', "
            "sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'",
        }
        if tls.enabled:
            # An SSLContext makes PyMySQL refuse a server that does not offer TLS.
            connect_args["ssl"] = tls.ssl_context()
        engine = create_engine(
            url,
            echo=echo,
            # Short transactions that lock only the rows they touch: fewer deadlocks between
            # the delivery workers, the outcome writer and imports than REPEATABLE READ.
            isolation_level="READ COMMITTED",
            pool_pre_ping=True,
            pool_recycle=3600,
            connect_args=connect_args,
        )
        if url.password is None:
            from_env = os.environ.get(MYSQL_PASSWORD_ENV)
            register_secret(from_env)
            event.listen(engine, "do_connect",
                         _GivenPassword(from_env) if from_env else _StoredPassword())
        else:
            register_secret(url.password if isinstance(url.password, str) else None)
        if load_local_files:
            from minicrm_desktop.services.bulkload.load_local import guarded_connect

            # After the password listeners: it opens the connection with their parameters.
            event.listen(engine, "do_connect", guarded_connect)
        _OPENED[engine] = (url, echo, tls)
        from minicrm_desktop.services.access.db_roles import activate_database_role

        # Each person's account holds one server role; MariaDB turns it on only on request.
        event.listen(engine, "connect", activate_database_role)
        return engine
    except NoSuchModuleError as exc:
        raise ConfigError(f"no database driver for {url.drivername!r}: {exc}") from None


# How each MySQL engine was made, so a sibling for bulk loads can be made alike.
_OPENED: WeakKeyDictionary[Engine, tuple[URL, bool, MysqlTls]] = WeakKeyDictionary()


def sibling_engine(engine: Engine, *, load_local_files: bool) -> Engine | None:
    """Another engine to the same MySQL database, made as `engine` was (URL, TLS, password
    source), or None if MiniCRM did not make `engine`."""
    made = _OPENED.get(engine)
    if made is None:
        return None
    url, echo, tls = made
    return create_db_engine(url, echo=echo, tls=tls, load_local_files=load_local_files)


class _GivenPassword:
    """Adds the password from MINICRM_MYSQL_PASSWORD to a connection's arguments."""

    def __init__(self, password: str) -> None:
        self._password = password

    def __call__(self, _dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        cparams.setdefault("password", self._password)


class _StoredPassword:
    """Adds the MySQL password kept in the secret store for exactly the server and account
    this connection goes to (looked up on the connection's thread, once), and refuses to
    send it to another machine without verified TLS."""

    def __init__(self) -> None:
        self._found: dict[str, str | None] = {}

    def __call__(self, _dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        if "password" in cparams:
            return
        host = str(cparams.get("host") or "localhost")
        port = int(cparams.get("port") or MYSQL_DEFAULT_PORT)
        name = mysql_password_name(str(cparams.get("user") or ""), host, port)
        if name not in self._found:
            self._found[name] = _stored_mysql_password(name)
        password = self._found[name]
        if not password:
            return  # the server's "access denied" then says what is missing
        if not _verified_tls(cparams.get("ssl")) and not is_loopback(host):
            raise ConfigError(
                f"MiniCRM keeps a MySQL password for {host}:{port} but sends it to a server on "
                "another machine only over TLS, and TLS is off: turn on \"Require TLS\" (or "
                f"choose the server's CA certificate) in Settings, or set "
                f"{MYSQL_REQUIRE_TLS_ENV}=1"
            )
        cparams["password"] = password


def mysql_password_name(user: str, host: str, port: int | None) -> str:
    """The secret-store name of the password for `user` at `host`:`port`. A stored password
    is bound to these three: a URL naming any other server never receives it."""
    return f"mysql-password:{user}@{host.strip().lower()}:{port or MYSQL_DEFAULT_PORT}"


def mysql_password_name_for(url: URL) -> str:
    return mysql_password_name(url.username or "", url.host or "localhost", url.port)


def is_loopback(host: str) -> bool:
    """True for this machine by address or by the name "localhost" (no DNS lookup: a name
    that merely resolves to 127.0.0.1 does not count)."""
    name = host.strip().lower().strip("[]")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _verified_tls(context: Any) -> bool:
    """Our SSLContext (see MysqlTls), or PyMySQL's own from a URL's ?ssl_ca=…, both of which
    verify the server's certificate."""
    if isinstance(context, ssl.SSLContext):
        return context.verify_mode is ssl.CERT_REQUIRED
    if isinstance(context, dict):
        return bool(context.get("ca") or context.get("capath")) and context.get(
            "verify_mode", ssl.CERT_REQUIRED) in (ssl.CERT_REQUIRED, True, "required")
    return False


def _stored_mysql_password(name: str) -> str | None:
    try:
        from minicrm_desktop.services.core.secrets import (
            MYSQL_PASSWORD,
            SecretStoreError,
            default_secret_store,
        )
    except ImportError:  # a build without secret storage
        return None
    try:
        store = default_secret_store()
        password = store.get(name)
        if password is None and store.get(MYSQL_PASSWORD):
            log.warning("a MySQL password stored by an older MiniCRM (not tied to a server) "
                        "is no longer used: store it again with `minicrm db-password`")
    except SecretStoreError as exc:
        # Connect without; the server's "access denied" then says what is missing.
        log.warning("the MySQL password could not be read: %s", exc)
        return None
    register_secret(password)
    return password


def check_connection(engine: Engine) -> None:
    """Connect once, turning driver errors into a clear message."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot open the database ({describe_url(engine.url)}): {scrub(_reason(exc))}"
        ) from None


def _reason(exc: OperationalError) -> str:
    orig = exc.orig
    if orig is not None and getattr(orig, "args", None):
        args = orig.args
        return str(args[-1]) if len(args) > 1 else str(args[0])
    return str(exc).splitlines()[0]


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # The ORM loads here, not with this module: the window is made (and painted) before.
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
