"""SQLite: customers (total_spend_minor, subscribed, order_count, last_order_us) in place of
ix_customers_spend_activity (total_spend_minor, last_order_at, order_count, subscribed).

Since migration 0019 SQLite compares the last order as the integer last_order_us: no query
there reads the 26-character text last_order_at from the spend index any more, yet every
entry carried it, and a test of consent behind it decoded past it. This index holds what
SQLite's rules read, integers only. The count planner can now put a nested tree's parts the
cheaper way round (services/segments/count_plan.py): "subscribed and spent over X and not
(ordered N times and recently)" is a range of this index, so the recent part's walk of
ix_customers_order_count_consent no longer tests the spend on each of its entries (at a
million: 286M -> 241M instructions for the benchmark's nested tree). Led by the spend as
before: sorts and spend ranges read it as they read the old one.

MySQL/MariaDB are unchanged: they keep ix_customers_spend_activity (now outside the ORM
metadata, models/engine_only.MYSQL_INDEX_COLUMNS), whose date their compiled rules read.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from minicrm_desktop.models.index_ddl import analyze_sqlite_index, is_sqlite

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_customers_spend_consent"
_OLD = "ix_customers_spend_activity"


def upgrade() -> None:
    if not is_sqlite(op.get_bind()):
        return
    # IF NOT EXISTS: a bulk load may have set it aside and start-up restored it already.
    op.execute(f"CREATE INDEX IF NOT EXISTS {_NAME} ON customers "
               "(total_spend_minor, subscribed, order_count, last_order_us)")
    op.execute(f"DROP INDEX IF EXISTS {_OLD}")
    analyze_sqlite_index(op.get_bind(), _NAME)


def downgrade() -> None:
    if not is_sqlite(op.get_bind()):
        return
    op.execute(f"CREATE INDEX IF NOT EXISTS {_OLD} ON customers "
               "(total_spend_minor, last_order_at, order_count, subscribed)")
    op.execute(f"DROP INDEX IF EXISTS {_NAME}")
