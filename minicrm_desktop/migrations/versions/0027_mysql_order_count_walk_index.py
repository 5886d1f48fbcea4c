"""MySQL/MariaDB: customers (order_count, subscribed, last_order_at), for the recent branch
of nested trees counted one order count at a time.

"Subscribed and ordered N+ times and last ordered within D days" was one date range of
0022's index led by the last order (443,000 entries at a million, of which 312,000 match).
With this index the count planner counts it as one range of the date per order count
(services/segments/count_plan.py, `_MYSQL_WALK_VALUES`), visiting only the matching
entries. SQLite has its own index for the same walk (0023) and is unchanged.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_customers_order_count_walk"


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def _present() -> bool:
    # A bulk load may have set the index aside, and start-up restores it (models/
    # engine_only.py), so either step may find it in the state it leads to.
    return op.get_bind().exec_driver_sql(
        "SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE()"
        f" AND table_name = 'customers' AND index_name = '{_NAME}'"
    ).first() is not None


def upgrade() -> None:
    if _is_mysql() and not _present():
        op.execute(f"CREATE INDEX {_NAME} ON customers (order_count, subscribed, last_order_at)")


def downgrade() -> None:
    if _is_mysql() and _present():
        op.execute(f"DROP INDEX {_NAME} ON customers")
