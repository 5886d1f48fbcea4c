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

from minicrm_desktop.models.index_ddl import create_mysql_index, drop_mysql_index, is_mysql

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_customers_order_count_walk"
_COLUMNS = "order_count, subscribed, last_order_at"


def upgrade() -> None:
    if is_mysql(op.get_bind()):
        create_mysql_index(op.get_bind(), "customers", _NAME, _COLUMNS)


def downgrade() -> None:
    if is_mysql(op.get_bind()):
        drop_mysql_index(op.get_bind(), "customers", _NAME)
