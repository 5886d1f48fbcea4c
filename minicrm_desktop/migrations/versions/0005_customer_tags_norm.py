"""customers.tags_norm: each customer's tag names in one indexed column ("|new|vip|").

Filled from customer_tags for existing customers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from minicrm_desktop.models.base import NormString

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: SQLite supports it with a default, no table copy needed.
    op.add_column(
        "customers",
        sa.Column("tags_norm", NormString(2000), server_default=sa.text("''"), nullable=False),
    )
    conn = op.get_bind()
    names: dict[int, list[str]] = {}
    rows = conn.execute(
        sa.text(
            "SELECT ct.customer_id, t.name_norm FROM customer_tags ct "
            "JOIN tags t ON t.id = ct.tag_id"
        )
    )
    for customer_id, name in rows:
        names.setdefault(customer_id, []).append(name)
    update = sa.text("UPDATE customers SET tags_norm = :tags WHERE id = :id")
    params = [{"id": cid, "tags": "|" + "|".join(sorted(set(n))) + "|"} for cid, n in names.items()]
    for start in range(0, len(params), 5000):
        conn.execute(update, params[start : start + 5000])
    op.create_index("ix_customers_tags_norm", "customers", ["tags_norm"], mysql_length=255)


def downgrade() -> None:
    op.drop_index("ix_customers_tags_norm", table_name="customers")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("tags_norm")
