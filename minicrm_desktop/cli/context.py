"""What every command gets: the chosen database, opened and migrated on first use, and the
acting user whose role every command's services check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from minicrm_desktop.services.core.database import (
    MysqlTls,
    check_connection,
    create_db_engine,
    is_sqlite,
    resolve_database_url,
)

from ..services.access.actor import LOCAL_ADMIN, AccessDenied, Actor

if TYPE_CHECKING:
    from minicrm_desktop.services.core.settings import Settings

    from ..services.access.identity import Identity
    from ..services.auth.config import OAuthConfig

SIGN_IN_FIRST = "sign in first with `minicrm login`"


@dataclass
class CliContext:
    db: str | None = None
    debug: bool = False
    # Tests (and embedders) may name the actor; otherwise it is found on first use.
    actor_override: Actor | None = None
    _engine: Engine | None = field(default=None, repr=False)
    _actor: Actor | None = field(default=None, repr=False)
    _settings: Settings | None = field(default=None, repr=False)
    # What opening the database found and mended (missing triggers…), for init-db to print.
    notices: list[str] = field(default_factory=list)

    @property
    def url(self) -> URL:
        return resolve_database_url(self.db)

    def engine(self, *, signed_in: bool = True, verify: bool = False) -> Engine:
        """The database engine, connected and migrated to the current schema.

        Reading a shared database needs a signed-in user as much as changing it does, so
        by default the acting user is resolved first; only `minicrm login` opts out.
        One query says whether the schema is current (services/core/schema_version.py);
        Alembic (0.1-0.2 s to import and load its scripts) runs only when it is not, or
        with `verify` (`minicrm init-db`: it also mends the safeguards and the roles)."""
        if self._engine is None:
            from minicrm_desktop.services.core.schema_version import schema_is_current

            engine = create_db_engine(self.url, tls=MysqlTls.configured(self.settings()))
            check_connection(engine)
            if verify or not schema_is_current(engine):
                from minicrm_desktop.services.core.migrate import upgrade_to_head

                self.notices = upgrade_to_head(engine)
            else:
                # What upgrade_to_head does besides migrating that a command relies on:
                # indexes an interrupted bulk import left set aside come back.
                from minicrm_desktop.services.bulkload.indexes import restore_missing_indexes

                restore_missing_indexes(engine)
            self._engine = engine
        if signed_in:
            self.actor()
        return self._engine

    def actor(self) -> Actor:
        """Who is running the command: the local admin on an embedded database with no
        sign-in configured; otherwise the user of the session `minicrm login` remembered."""
        if self.actor_override is not None:
            return self.actor_override
        if self._actor is None:
            self._actor = resolve_cli_actor(self.url, self.settings(),
                                            lambda: self.engine(signed_in=False))
        return self._actor

    def settings(self) -> Settings:
        """The app's settings file, read once per command."""
        if self._settings is None:
            from minicrm_desktop.services.core.settings import QSettingsStore, Settings

            self._settings = Settings(QSettingsStore())
        return self._settings

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def resolve_cli_actor(url: URL, settings: Settings, engine: Callable[[], Engine]) -> Actor:
    """`engine` opens the database; it is called only once a session was found."""
    from ..services.auth.config import resolve_oauth_config

    config = resolve_oauth_config(settings)
    if config is None:
        if is_sqlite(url):
            return LOCAL_ADMIN
        raise AccessDenied(
            "a database shared over MySQL needs a signed-in user, and no sign-in is "
            "configured: set MINICRM_GOOGLE_CLIENT_SECRETS (or choose the client secrets "
            f"in Settings), then {SIGN_IN_FIRST}"
        )
    identity = _restore(config)
    if identity is None:
        raise AccessDenied(SIGN_IN_FIRST)
    from ..services.access.users import session_actor

    return session_actor(engine(), identity)


def _restore(config: OAuthConfig) -> Identity | None:
    """The identity of the session `minicrm login` remembered (None when there is none)."""
    from minicrm_desktop.services.core.secrets import default_secret_store, terminal_passphrase

    from ..services.auth.session import restore_identity

    return restore_identity(config, default_secret_store(terminal_passphrase))
