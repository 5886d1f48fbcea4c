"""Opening the database: URL resolution, engine tuning per dialect, sessions, migrations."""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import ConfigError, DatabaseUnavailable
from .paths import default_database_path

if TYPE_CHECKING:
    from .settings import Settings

DATABASE_URL_ENV = "MINICRM_DATABASE_URL"
MYSQL_SSL_CA_ENV = "MINICRM_MYSQL_SSL_CA"
MYSQL_REQUIRE_TLS_ENV = "MINICRM_MYSQL_REQUIRE_TLS"

log = logging.getLogger(__name__)


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
        from .settings import MYSQL_REQUIRE_TLS, MYSQL_SSL_CA

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
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-131072")  # 128 MiB page cache per connection
    cursor.execute("PRAGMA temp_store=MEMORY")
    # A bulk load lets the WAL grow to ~200 MB (services/indexes.py); give the space back
    # once it has been checkpointed.
    cursor.execute("PRAGMA journal_size_limit=67108864")
    cursor.close()


def create_db_engine(
    url: URL | str, *, echo: bool = False, tls: MysqlTls | None = None
) -> Engine:
    """Create an engine tuned for the dialect. Does not connect yet.

    MySQL: `tls` (default: from the environment) turns on verified TLS; a URL without a
    password takes the one kept in the keyring, fetched when the first connection opens
    (on that connection's thread) and never put in the URL, so it appears nowhere.
    """
    url = make_url(url) if isinstance(url, str) else url
    try:
        if is_sqlite(url):
            if url.database and url.database != ":memory:":
                Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, echo=echo, connect_args={"timeout": 10})
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
            event.listen(engine, "do_connect", _KeyringPassword())
        from .access.db_roles import activate_database_role

        # Each person's account holds one server role; MariaDB turns it on only on request.
        event.listen(engine, "connect", activate_database_role)
        return engine
    except NoSuchModuleError as exc:
        raise ConfigError(f"no database driver for {url.drivername!r}: {exc}") from None


class _KeyringPassword:
    """Adds the MySQL password kept in the keyring to a connection's arguments."""

    def __init__(self) -> None:
        self._password: str | None = None
        self._looked = False

    def __call__(self, _dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        if not self._looked:
            self._looked = True
            self._password = _stored_mysql_password()
        if self._password and "password" not in cparams:
            cparams["password"] = self._password


def _stored_mysql_password() -> str | None:
    try:
        from .secrets import MYSQL_PASSWORD, SecretStoreError, default_secret_store
    except ImportError:  # a build without secret storage
        return None
    try:
        return default_secret_store().get(MYSQL_PASSWORD)
    except SecretStoreError as exc:
        # Connect without; the server's "access denied" then says what is missing.
        log.warning("the MySQL password could not be read from %s", type(exc).__name__)
        return None


def check_connection(engine: Engine) -> None:
    """Connect once, turning driver errors into a clear message."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot open the database ({describe_url(engine.url)}): {_reason(exc)}"
        ) from None


def _reason(exc: OperationalError) -> str:
    orig = exc.orig
    if orig is not None and getattr(orig, "args", None):
        args = orig.args
        return str(args[-1]) if len(args) > 1 else str(args[0])
    return str(exc).splitlines()[0]


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
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
