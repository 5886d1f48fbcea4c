"""What every command gets: the chosen database, opened and migrated on first use."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from ..services.database import check_connection, create_db_engine, resolve_database_url
from ..services.migrate import upgrade_to_head


@dataclass
class CliContext:
    db: str | None = None
    debug: bool = False
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def url(self) -> URL:
        return resolve_database_url(self.db)

    def engine(self) -> Engine:
        """The database engine, connected and migrated to the current schema."""
        if self._engine is None:
            engine = create_db_engine(self.url)
            check_connection(engine)
            upgrade_to_head(engine)
            self._engine = engine
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
