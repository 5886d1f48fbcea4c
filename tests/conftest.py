"""Shared fixtures: real SQLite files and a real MariaDB database for every engine test.

MariaDB: MINICRM_TEST_MYSQL_URL names a server (and optionally a database that .ci/run
created fresh); without it the local server on 127.0.0.1:3306 is tried. With CI=true an
unreachable server fails the run; otherwise its tests are skipped with the reason.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import tests.examples  # noqa: E402, F401  (loads the hypothesis profile)
from minicrm_desktop.models import Base  # noqa: E402
from minicrm_desktop.services.access.db_roles import drop_database_roles  # noqa: E402
from minicrm_desktop.services.access.trust import record_new_database  # noqa: E402
from minicrm_desktop.services.core.database import create_db_engine  # noqa: E402
from minicrm_desktop.services.core.migrate import upgrade_to_head  # noqa: E402

# One process holds one Qt application object, and widgets need a QApplication. The headless
# campaign runner creates a bare QCoreApplication when none exists, which would make every
# widget test after it abort; creating the QApplication before any test runs lets both
# share it (pytest-qt's `qapp` fixture reuses it).
_QAPP = QApplication.instance() or QApplication(["minicrm-tests"])

DEFAULT_MYSQL_SERVER = "mysql+pymysql://root@127.0.0.1:3306/"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep tests away from the real user's data folder, settings and database URL."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("MINICRM_DATABASE_URL", raising=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated empty database, copied for each test (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "crm.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = create_db_engine(sqlite_url)
    yield engine
    engine.dispose()


def _mysql_unavailable(reason: str) -> None:
    message = f"MariaDB tests need a server: {reason} (set MINICRM_TEST_MYSQL_URL)"
    if IN_CI:
        pytest.fail(f"CI=true but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def mysql_database_url() -> Iterator[str]:
    """A fresh, migrated MariaDB database for this test run."""
    configured = os.environ.get("MINICRM_TEST_MYSQL_URL", DEFAULT_MYSQL_SERVER)
    url = make_url(configured)
    created = None
    if not url.database:
        created = f"minicrm_test_{secrets.token_hex(4)}"
        url = url.set(database=created)
    server = create_db_engine(url.set(database=""))
    try:
        with server.connect() as conn:
            if created:
                conn.execute(
                    text(
                        # Not the tables' own collation: nothing may depend
                        # on the database's default (see .ci/run).
                        f"CREATE DATABASE `{created}` "
                        "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
                    )
                )
    except Exception as exc:  # any driver error means "no server here"
        server.dispose()
        _mysql_unavailable(str(exc).splitlines()[0])
    engine = create_db_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    yield url.render_as_string(hide_password=False)
    if created:
        with server.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{created}`"))
            drop_database_roles(conn, created)  # the server roles init-db made for it
    server.dispose()


def _empty_mysql(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f"TRUNCATE TABLE `{table.name}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
        record_new_database(conn)  # as migrating an empty database leaves it


@pytest.fixture
def mysql_engine(mysql_database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(mysql_database_url)
    _empty_mysql(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated, empty database on each supported engine."""
    fixture = "sqlite_engine" if request.param == "sqlite" else "mysql_engine"
    engine: Engine = request.getfixturevalue(fixture)
    return engine


@pytest.fixture
def db_url(engine: Engine) -> str:
    """The URL of `engine`, for CLI tests."""
    return engine.url.render_as_string(hide_password=False)
