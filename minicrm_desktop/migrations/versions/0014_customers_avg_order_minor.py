"""customers.avg_order_minor on MySQL/MariaDB: the truncated average order, indexed.

"Average order value > V" is compared exactly as total_spend_minor > V x order_count,
which no index can seek. The truncated quotient is within a unit of the average, so a
range on it narrows the candidates (half the customers instead of all who ordered) and the
exact comparison runs on the same index entries. SQLite is unchanged: its planner does not
treat an index on an expression or a generated column as covering, and scans
ix_customers_order_count_total_spend_minor as fast (see models/engine_only.py).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    if not _is_mysql():
        return
    # VIRTUAL: nothing stored in the row. NULL without orders (no division by zero, which
    # strict mode would turn into an error on insert).
    op.execute(
        "ALTER TABLE customers ADD COLUMN avg_order_minor BIGINT GENERATED ALWAYS AS "
        "(IF(order_count > 0, total_spend_minor DIV order_count, NULL)) VIRTUAL, "
        "ADD INDEX ix_customers_avg_order_minor (avg_order_minor, order_count, total_spend_minor)"
    )


def downgrade() -> None:
    if not _is_mysql():
        return
    op.execute(
        "ALTER TABLE customers DROP INDEX ix_customers_avg_order_minor, "
        "DROP COLUMN avg_order_minor"
    )
