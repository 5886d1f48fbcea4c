"""Alembic environment: runs on the connection (or engine) the app hands over in
`config.attributes` (see services.migrate); the database URL, and so its password, never
passes through Alembic's configuration."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from minicrm_desktop.models import Base
from minicrm_desktop.models.engine_only import include_object_for

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object_for(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise SystemExit("run migrations through minicrm_desktop.services.core.migrate "
                         "(`minicrm init-db`), which hands over the database connection")
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported")
run_migrations_online()
