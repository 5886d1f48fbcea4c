"""The segment tables and the customer indexes segment counts rely on exist after migrating."""

from __future__ import annotations

from sqlalchemy import Engine, inspect


def test_segments_table_and_customer_indexes_exist(engine: Engine) -> None:
    inspector = inspect(engine)
    assert "segments" in inspector.get_table_names()
    names = {ix["name"] for ix in inspector.get_indexes("customers")}
    # The spend index is per engine since migration 0026 (models/engine_only.py).
    spend = ("ix_customers_spend_consent" if engine.dialect.name == "sqlite"
             else "ix_customers_spend_activity")
    assert {"ix_customers_name_norm", "ix_customers_phone_norm", spend} <= names
