"""Is the schema current? One query, no Alembic: the app's start asks this every time.

Importing Alembic (with Mako and Pygments behind it) and loading every migration script
cost a third of a second of start-up even when there is nothing to do. The newest revision
is read from the migration scripts' file names instead (`0015_delivery_status_width.py`
is revision "0015"; tests/test_database.py and the self-test check this agrees with
Alembic's head), and the database's from `alembic_version`. Only when they differ, or
cannot be read, does the caller run Alembic (services/core/migrate.py), which then decides
everything: upgrade, refusal, "ask an admin".
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

VERSIONS_DIR = Path(__file__).resolve().parents[2] / "migrations" / "versions"
_SCRIPT_NAME = re.compile(r"^(\d{4})_\w+\.py$")


@cache
def newest_revision() -> str | None:
    """The revision of the newest migration script (None if there are none)."""
    numbers = [m.group(1) for p in VERSIONS_DIR.glob("*.py") if (m := _SCRIPT_NAME.match(p.name))]
    return max(numbers, default=None)


def stored_revision(engine: Engine) -> str | None:
    """The database's schema revision; None when it has none or it cannot be read (the
    caller then runs Alembic, which reports a database that cannot be opened clearly)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:  # no such table (a new database), or no access to it
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def schema_is_current(engine: Engine) -> bool:
    """True when the database is at the newest revision this app knows."""
    newest = newest_revision()
    return newest is not None and stored_revision(engine) == newest
