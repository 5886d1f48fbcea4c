"""customers.avg_order_minor on SQLite too: the truncated average order, stored and indexed.

MySQL/MariaDB have had it since 0014 (a generated column). On SQLite "average order value
> V" scanned every customer with orders in ix_customers_order_count_total_spend_minor and
multiplied for each (7-8x DuckDB at a million). SQLite 3.40 never reads an index on a
generated column as covering, so here it is a plain column, kept by triggers: whichever
writer inserts or changes the aggregates (seed, orders import, edits, any SQL), a row whose
avg_order_minor is not total_spend_minor / order_count (NULL without orders) is corrected
in the same statement. Writers that set it themselves (seed, refresh_aggregates) leave the
triggers nothing to do. The index (avg_order_minor, order_count, total_spend_minor) covers
the exact comparison, so a count is one range of it. See models/engine_only.py.

A future batch migration that copies the customers table must recreate the triggers.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Integer division truncates toward zero in SQLite, as DIV does in MySQL.
_AVERAGE = "CASE WHEN NEW.order_count > 0 THEN NEW.total_spend_minor / NEW.order_count END"
_FIX = (f"WHEN NEW.avg_order_minor IS NOT ({_AVERAGE}) BEGIN "
        f"UPDATE customers SET avg_order_minor = {_AVERAGE} WHERE id = NEW.id; END")


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if not _is_sqlite():
        return
    op.execute("ALTER TABLE customers ADD COLUMN avg_order_minor INTEGER")
    op.execute("UPDATE customers SET avg_order_minor = total_spend_minor / order_count "
               "WHERE order_count > 0")
    op.execute("CREATE INDEX ix_customers_avg_order_minor "
               "ON customers (avg_order_minor, order_count, total_spend_minor)")
    op.execute(f"CREATE TRIGGER tr_customers_avg_order_insert AFTER INSERT ON customers {_FIX}")
    op.execute("CREATE TRIGGER tr_customers_avg_order_update AFTER UPDATE OF "
               f"total_spend_minor, order_count, avg_order_minor ON customers {_FIX}")


def downgrade() -> None:
    if not _is_sqlite():
        return
    op.execute("DROP TRIGGER tr_customers_avg_order_update")
    op.execute("DROP TRIGGER tr_customers_avg_order_insert")
    op.execute("DROP INDEX ix_customers_avg_order_minor")
    op.execute("ALTER TABLE customers DROP COLUMN avg_order_minor")
