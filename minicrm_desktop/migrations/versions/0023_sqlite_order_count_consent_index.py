"""SQLite: customers (order_count, subscribed, last_order_us, total_spend_minor), for nested
trees whose recent branch tests an order count, consent and the last order.

"Subscribed and (spent over X or (ordered N times and last ordered within D days))" is
counted as two disjoint parts (services/segments/count_plan.py). The recent part was a range
of ix_customers_last_order_us: at a million, 44% of the customers, each entry decoded to
test consent, count and spend. Led by count and consent, this index holds the same part as
one date range per order count (the planner walks the count's distinct values): 30% fewer
entries, count and consent settled by the key. Not led by consent: without statistics
SQLite takes an equality on a leading column for a few rows, and would read half the table
for "subscribed" (models/engine_only.py). MySQL/MariaDB are unchanged.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from minicrm_desktop.models.index_ddl import analyze_sqlite_index, is_sqlite

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_customers_order_count_consent"


def upgrade() -> None:
    if not is_sqlite(op.get_bind()):
        return
    # IF NOT EXISTS: a bulk load may have set it aside and start-up restored it already.
    op.execute(f"CREATE INDEX IF NOT EXISTS {_NAME} ON customers "
               "(order_count, subscribed, last_order_us, total_spend_minor)")
    analyze_sqlite_index(op.get_bind(), _NAME)


def downgrade() -> None:
    if is_sqlite(op.get_bind()):
        op.execute(f"DROP INDEX IF EXISTS {_NAME}")
