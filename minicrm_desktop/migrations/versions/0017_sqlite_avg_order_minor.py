"""customers.avg_order_minor on SQLite too: the truncated average order, with an index.

MySQL/MariaDB have had it since 0014. On SQLite "average order value > V" scanned every
customer with orders in ix_customers_order_count_total_spend_minor and multiplied for each
(about 8x DuckDB at a million). A VIRTUAL generated column costs nothing in the row, and
SQLite keeps its index in step on every insert and update, whatever the writer. The index
holds the column alone: SQLite 3.40 does not read an index on a generated column as
covering, but it defers the row lookup, so a count that tests only the truncated value
(all but the customers whose truncated average equals V) never reads the table. See
models/engine_only.py and services/segments/compiler.py (_average).

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


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if not _is_sqlite():
        return
    # Integer division truncates toward zero, as MySQL's DIV; NULL without orders.
    op.execute(
        "ALTER TABLE customers ADD COLUMN avg_order_minor INTEGER GENERATED ALWAYS AS "
        "(CASE WHEN order_count > 0 THEN total_spend_minor / order_count END) VIRTUAL"
    )
    op.execute("CREATE INDEX ix_customers_avg_order_minor ON customers (avg_order_minor)")


def downgrade() -> None:
    if not _is_sqlite():
        return
    op.execute("DROP INDEX ix_customers_avg_order_minor")
    op.execute("ALTER TABLE customers DROP COLUMN avg_order_minor")
