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

from minicrm_desktop.models.index_ddl import create_mysql_index, drop_mysql_index, is_mysql

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_customers_last_order_activity"
_COLUMNS = "last_order_at, total_spend_minor, order_count, subscribed"


def upgrade() -> None:
    if is_mysql(op.get_bind()):
        create_mysql_index(op.get_bind(), "customers", _NAME, _COLUMNS)


def downgrade() -> None:
    if is_mysql(op.get_bind()):
        drop_mysql_index(op.get_bind(), "customers", _NAME)
