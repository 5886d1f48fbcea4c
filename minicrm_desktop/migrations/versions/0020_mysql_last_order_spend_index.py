"""MySQL/MariaDB: customers (last_order_at, total_spend_minor), for "lapsed and spent over X".

"Haven't ordered in N months and spent over X" was a range on ix_customers_spend_activity,
which leads with the spend: at a million customers it read the 468,000 who spent over
₹5,000 to find the 83,000 who also lapsed. Led by the last order instead, the range reads
the customers whose last order is older than the cut-off (251,000), checking the spend
beside each date; those who never ordered (a NULL date) are passed over by one seek to
(NULL, X), since their spend is 0. Both ranges are index-only; the planner estimates both
as half the table at this size and picks this one, the narrower entry.
SQLite is unchanged (its planner keeps the spend range: see models/engine_only.py).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from minicrm_desktop.models.index_ddl import drop_mysql_index, is_mysql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if not is_mysql(op.get_bind()):
        return
    op.execute(
        "CREATE INDEX ix_customers_last_order_spend ON customers "
        "(last_order_at, total_spend_minor)"
    )


def downgrade() -> None:
    if is_mysql(op.get_bind()):
        drop_mysql_index(op.get_bind(), "customers", "ix_customers_last_order_spend")
