"""The app's engine, made when first used, so the window can be built and painted before
SQLAlchemy is imported (about 0.2 s of CPU, as much as the bare window's whole start).

The desktop app hands a `DeferredEngine` to everything that keeps the engine; the first
use (the task that opens the database, after the first paint) makes the real one, and
every attribute is the real engine's from then on. The few SQLAlchemy calls that check the
engine's type (event.listen, Alembic's env.py) are given `real_engine(engine)`.

This module imports no SQLAlchemy; neither does `sqlite_file`, which reads the SQLite
file out of a URL string the way SQLAlchemy's `make_url` does, for the URLs it is sure of.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from minicrm_desktop.services.core.paths import default_database_path

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: The environment variable naming the database (services/core/database.py reads it too).
DATABASE_URL_ENV = "MINICRM_DATABASE_URL"
#: `sqlite:///FILE` with nothing SQLAlchemy would read differently (no query, fragment or
#: percent-escapes): FILE is then exactly make_url(url).database.
_PLAIN_SQLITE = re.compile(r"sqlite:///([^?#%]+)")


class DeferredEngine:
    """Stands in for the SQLAlchemy Engine that `make` returns, made at the first use
    (on whichever thread that is; once, under a lock)."""

    def __init__(self, make: Callable[[], Engine]) -> None:
        self._make: Callable[[], Engine] | None = make
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def made(self) -> bool:
        return self._engine is not None

    def get(self) -> Engine:
        with self._lock:
            if self._engine is None:
                assert self._make is not None
                self._engine, self._make = self._make(), None
            return self._engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)

    def dispose(self) -> None:
        """Close the pool's connections; an engine never made has none."""
        if self._engine is not None:
            self._engine.dispose()


def real_engine(engine: Engine) -> Engine:
    """The SQLAlchemy Engine itself, for the calls that check its type."""
    return engine.get() if isinstance(engine, DeferredEngine) else engine


def database_url_text(explicit: str | None) -> str:
    """The database URL as the app will use it (`--db`, then MINICRM_DATABASE_URL, then the
    embedded SQLite file), before SQLAlchemy parses and checks it."""
    raw = explicit or os.environ.get(DATABASE_URL_ENV)
    return raw or f"sqlite:///{default_database_path()}"


def sqlite_file(url: object) -> str | None:
    """The file of a plain `sqlite:///FILE` URL string; None for any other URL (those
    take SQLAlchemy's parser)."""
    if not isinstance(url, str):
        return None
    match = _PLAIN_SQLITE.fullmatch(url)
    return match.group(1) if match else None
