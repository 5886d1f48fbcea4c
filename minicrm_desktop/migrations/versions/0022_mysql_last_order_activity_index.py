"""MySQL/MariaDB: customers (last_order_at, total_spend_minor, order_count, subscribed), the
columns of SQLite's ix_customers_last_order_us, for nested trees over the last order.

"Subscribed and (spent over X or (ordered N times and last ordered within D days))" was one
scan of all of ix_customers_spend_activity (the OR has no common range). With the count and
consent beside the date, the recent branch is a range of this index, so the count planner
sums two disjoint ranges instead (services/segments/count_plan.py). 0020's narrower index
stays: "lapsed and spent over X" reads it a quarter faster than it would read this one.
SQLite is unchanged.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_customers_last_order_activity"


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
        op.execute(
            f"CREATE INDEX {_NAME} ON customers "
            "(last_order_at, total_spend_minor, order_count, subscribed)"
        )


def downgrade() -> None:
    if _is_mysql() and _present():
        op.execute(f"DROP INDEX {_NAME} ON customers")
