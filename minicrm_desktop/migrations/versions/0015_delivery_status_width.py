"""deliveries.status holds 12 characters: "cancelled" (never sent, the campaign was
cancelled) is an outcome of its own and does not fit the old 8.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("status", existing_type=sa.String(8), type_=sa.String(12),
                           existing_nullable=False)


def downgrade() -> None:
    op.execute("UPDATE deliveries SET status = 'skipped' WHERE status = 'cancelled'")
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("status", existing_type=sa.String(12), type_=sa.String(8),
                           existing_nullable=False)
