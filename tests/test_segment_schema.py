"""Migrations produce exactly the ORM metadata (segments and their indexes included)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from minicrm_desktop.models import Base


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_segments_table_and_customer_indexes_exist(engine: Engine) -> None:
    inspector = inspect(engine)
    assert "segments" in inspector.get_table_names()
    names = {ix["name"] for ix in inspector.get_indexes("customers")}
    assert {"ix_customers_name_norm", "ix_customers_phone_norm",
            "ix_customers_spend_activity"} <= names
