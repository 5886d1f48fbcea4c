"""Drop ix_deliveries_claim: claims find their rows by primary key now, so no query reads it,
and every claim and outcome rewrote an entry of it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_deliveries_claim", table_name="deliveries")


def downgrade() -> None:
    op.create_index("ix_deliveries_claim", "deliveries", ["claim"])
