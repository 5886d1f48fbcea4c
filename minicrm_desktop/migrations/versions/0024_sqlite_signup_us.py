"""customers.signup_us on SQLite: the signup date as an integer, kept by triggers, indexed.

As last_order_us (0019) did for the last order: SQLite stores datetimes as 26-character
text, so "signed up in 2025" walked a quarter of the text index on signup_date at a
million customers, decoding and comparing a string per entry (10.8 ms, 3.2x DuckDB).
signup_us holds the same instant as microseconds since 1970-01-01 UTC, exact to the
microsecond as the text is, so the compiler compares integers and selects exactly the same
customers. signup_date is never NULL, and neither is signup_us once the triggers ran.

A plain column kept by triggers: a row inserted without it (any writer that does not know
the column) gets it, and an update of signup_date or signup_us that leaves the two apart is
corrected, in the same statement; writers that set it themselves (imports, the seed, with
sqlite_instant) leave the triggers nothing to do. Its index (signup_us) replaces the text
index ix_customers_signup_date, which no query needs any more on SQLite (the customer
table sorts by signup_us: services/customers/queries.py), so an import still builds one
index for the date. MySQL/MariaDB are unchanged
and keep ix_customers_signup_date (now outside the ORM metadata: models/engine_only.py).

A future batch migration that copies the customers table must recreate the triggers.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def instant_sql(text: str) -> str:
    """SQL for the microseconds since 1970 of stored datetime text `text`, as 0019's (a
    migration keeps its own copy): whole seconds from its first 19 characters, then up to
    six digits of fraction, padded. models/engine_only.sqlite_instant reads it the same way."""
    return (f"CASE WHEN {text} IS NOT NULL THEN "
            f"CAST(strftime('%s', substr({text}, 1, 19)) AS INTEGER) * 1000000 + "
            f"CAST(substr({text} || '000000', 21, 6) AS INTEGER) END")


_INSTANT = instant_sql("NEW.signup_date")
_SET = f"BEGIN UPDATE customers SET signup_us = {_INSTANT} WHERE id = NEW.id; END"
# An insert is corrected when it leaves the column out (NULL); an update whenever the two
# disagree. Rechecking every inserted row, as 0019's triggers do, read its date twice and
# cost an import ~7% more CPU; the writers that set it (imports, the seed) use
# sqlite_instant, which reads the text as this SQL does (tests/segments/test_signup_instant).
_FIX_INSERT = f"WHEN NEW.signup_us IS NULL {_SET}"
_FIX_UPDATE = f"WHEN NEW.signup_us IS NOT ({_INSTANT}) {_SET}"


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _has_column() -> bool:
    rows = op.get_bind().exec_driver_sql("PRAGMA table_info(customers)").fetchall()
    return any(row[1] == "signup_us" for row in rows)


def upgrade() -> None:
    # A database whose recorded version was set back (the column is there) is left as it is.
    if not _is_sqlite() or _has_column():
        return
    op.execute("ALTER TABLE customers ADD COLUMN signup_us INTEGER")
    op.execute(f"UPDATE customers SET signup_us = {instant_sql('signup_date')}")
    op.execute("CREATE INDEX IF NOT EXISTS ix_customers_signup_us ON customers (signup_us)")
    op.execute("DROP INDEX IF EXISTS ix_customers_signup_date")
    op.execute("CREATE TRIGGER tr_customers_signup_insert AFTER INSERT ON customers "
               f"{_FIX_INSERT}")
    op.execute("CREATE TRIGGER tr_customers_signup_update AFTER UPDATE OF "
               f"signup_date, signup_us ON customers {_FIX_UPDATE}")
    # Where the planner has statistics for the other indexes, give it this one's too.
    analyzed = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar()
    if analyzed:
        op.execute("ANALYZE ix_customers_signup_us")


def downgrade() -> None:
    if not _is_sqlite():
        return
    op.execute("DROP TRIGGER tr_customers_signup_update")
    op.execute("DROP TRIGGER tr_customers_signup_insert")
    op.execute("DROP INDEX IF EXISTS ix_customers_signup_us")
    op.execute("CREATE INDEX IF NOT EXISTS ix_customers_signup_date ON customers (signup_date)")
    op.execute("ALTER TABLE customers DROP COLUMN signup_us")
