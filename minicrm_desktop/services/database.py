"""Opening the database: URL resolution, engine tuning per dialect, sessions, migrations."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import ConfigError, DatabaseUnavailable
from .paths import default_database_path

DATABASE_URL_ENV = "MINICRM_DATABASE_URL"


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
    cursor.close()


def create_db_engine(url: URL | str, *, echo: bool = False) -> Engine:
    """Create an engine tuned for the dialect. Does not connect yet."""
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
        return create_engine(
            url,
            echo=echo,
            # Short transactions that lock only the rows they touch: fewer deadlocks between
            # the delivery workers, the outcome writer and imports than REPEATABLE READ.
            isolation_level="READ COMMITTED",
            pool_pre_ping=True,
            pool_recycle=3600,
            connect_args={
                "connect_timeout": 10,
                "local_infile": False,
                "init_command": "SET time_zone = '+00:00', "
                "sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'",
            },
        )
    except NoSuchModuleError as exc:
        raise ConfigError(f"no database driver for {url.drivername!r}: {exc}") from None


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
