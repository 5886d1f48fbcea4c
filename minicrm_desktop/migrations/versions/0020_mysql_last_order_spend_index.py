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

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    if not _is_mysql():
        return
    op.execute(
        "CREATE INDEX ix_customers_last_order_spend ON customers "
        "(last_order_at, total_spend_minor)"
    )


def downgrade() -> None:
    if not _is_mysql():
        return
    # A bulk load may have set the index aside, and an account allowed to alter customers
    # (an admin's, for those loads) may have dropped it in a downgrade the database then
    # refused: start-up restores it, and stepping down must not fail on its absence.
    present = op.get_bind().exec_driver_sql(
        "SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE()"
        " AND table_name = 'customers' AND index_name = 'ix_customers_last_order_spend'"
    ).first()
    if present is not None:
        op.execute("DROP INDEX ix_customers_last_order_spend ON customers")
