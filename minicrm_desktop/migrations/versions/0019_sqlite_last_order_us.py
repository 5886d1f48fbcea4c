"""customers.last_order_us on SQLite: the last order as an integer, kept by triggers, indexed.

SQLite stores datetimes as 26-character text ("2026-05-01 10:00:00.000000"), so a segment
rule on the last order decoded and compared a string for every index entry it stepped
through: "lapsed and spent over X" and nested trees over spend, count and last order were
6-8x DuckDB at a million customers. last_order_us holds the same instant as microseconds
since 1970-01-01 UTC (NULL without orders), exact to the microsecond as the text is, so the
compiler compares integers and selects exactly the same customers.

As with avg_order_minor (0017) it is a plain column kept by triggers: whichever writer
inserts or changes last_order_at (seed, orders import, edits, any SQL), a row whose
last_order_us does not match it is corrected in the same statement. Writers that set it
themselves (seed, refresh_aggregates) leave the triggers nothing to do. The index
(last_order_us, total_spend_minor, order_count, subscribed) is ix_customers_spend_activity
led by the date: date ranges seek it, and trees mixing those columns scan it alone. See
models/engine_only.py.

A future batch migration that copies the customers table must recreate the triggers.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def instant_sql(text: str) -> str:
    """SQL for the microseconds since 1970 of stored datetime text `text` (NULL for NULL):
    whole seconds from its first 19 characters (any date SQLite's functions read, years
    0000-9999), then up to six digits of fraction, padded (".5" is 500000 microseconds).
    models/engine_only.sqlite_instant reads it the same way."""
    return (f"CASE WHEN {text} IS NOT NULL THEN "
            f"CAST(strftime('%s', substr({text}, 1, 19)) AS INTEGER) * 1000000 + "
            f"CAST(substr({text} || '000000', 21, 6) AS INTEGER) END")


_INSTANT = instant_sql("NEW.last_order_at")
_FIX = (f"WHEN NEW.last_order_us IS NOT ({_INSTANT}) BEGIN "
        f"UPDATE customers SET last_order_us = {_INSTANT} WHERE id = NEW.id; END")


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _has_column() -> bool:
    rows = op.get_bind().exec_driver_sql("PRAGMA table_info(customers)").fetchall()
    return any(row[1] == "last_order_us" for row in rows)


def upgrade() -> None:
    # A database whose recorded version was set back (the column is there) is left as it is.
    if not _is_sqlite() or _has_column():
        return
    op.execute("ALTER TABLE customers ADD COLUMN last_order_us INTEGER")
    op.execute(f"UPDATE customers SET last_order_us = {instant_sql('last_order_at')} "
               "WHERE last_order_at IS NOT NULL")
    op.execute("CREATE INDEX ix_customers_last_order_us "
               "ON customers (last_order_us, total_spend_minor, order_count, subscribed)")
    op.execute(f"CREATE TRIGGER tr_customers_last_order_insert AFTER INSERT ON customers {_FIX}")
    op.execute("CREATE TRIGGER tr_customers_last_order_update AFTER UPDATE OF "
               f"last_order_at, last_order_us ON customers {_FIX}")
    # Where the planner has statistics for the other indexes, give it this one's too: without
    # them it would guess at its size next to measured ones.
    analyzed = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar()
    if analyzed:
        op.execute("ANALYZE ix_customers_last_order_us")


def downgrade() -> None:
    if not _is_sqlite():
        return
    op.execute("DROP TRIGGER tr_customers_last_order_update")
    op.execute("DROP TRIGGER tr_customers_last_order_insert")
    op.execute("DROP INDEX ix_customers_last_order_us")
    op.execute("ALTER TABLE customers DROP COLUMN last_order_us")
