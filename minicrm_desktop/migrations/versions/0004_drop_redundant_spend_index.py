"""Drop ix_customers_total_spend_minor: ix_customers_spend_activity leads with the same column.

One index fewer to maintain on every customer write and to rebuild after a bulk load.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_customers_total_spend_minor", table_name="customers")


def downgrade() -> None:
    op.create_index("ix_customers_total_spend_minor", "customers", ["total_spend_minor"])
