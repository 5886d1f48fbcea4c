"""Schema creation and upgrades through Alembic, run on start and by `minicrm init-db`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from minicrm_desktop.errors import DatabaseUnavailable
from minicrm_desktop.services.bulkload.indexes import restore_missing_indexes
from minicrm_desktop.services.core.database import describe_url
from minicrm_desktop.services.core.redact import scrub

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(engine: Engine) -> Config:
    """Alembic's configuration. The database reaches migrations/env.py as objects in
    `attributes` (the engine here, the open connection once migrating), never as a URL
    string: that would put the password in Alembic's ConfigParser, where a "%" breaks it
    and its error message shows it."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_to_head(engine: Engine) -> list[str]:
    """Create or upgrade the schema in place; an older database is never dropped.
    On a shared database only the owner account may migrate; anyone else gets "ask an
    admin to upgrade this database". Returns notices about mended safeguards."""
    from minicrm_desktop.services.access.schema_guard import after_upgrade, require_schema_rights

    try:
        current, head = current_revision(engine), head_revision(engine)
    except OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot open the database ({describe_url(engine.url)}): "
            f"{str(exc.orig or exc).splitlines()[0]}"
        ) from None
    require_schema_rights(engine, current, head, describe_url(engine.url))
    if current != head:
        _migrate(engine, lambda cfg: command.upgrade(cfg, "head"))
    restore_missing_indexes(engine)
    return after_upgrade(engine, migrated=current != head)


def downgrade_to(engine: Engine, revision: str) -> None:
    """Step the schema back (support use: before reinstalling an older release)."""
    _migrate(engine, lambda cfg: command.downgrade(cfg, revision))


def _migrate(engine: Engine, step: Callable[[Config], None]) -> None:
    cfg = alembic_config(engine)
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # A batch migration copies a table and drops the old one; with foreign keys
                # on, that drop would cascade and empty the child tables. The pragma only
                # takes effect outside a transaction, hence before BEGIN.
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.commit()
            try:
                with conn.begin():
                    cfg.attributes["connection"] = conn
                    step(cfg)
                    if sqlite:
                        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if broken:
                            raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
            finally:
                if sqlite:
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    conn.commit()
    except OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot migrate the database ({describe_url(engine.url)}): "
            f"{scrub(str(exc.orig or exc).splitlines()[0])}"
        ) from None
