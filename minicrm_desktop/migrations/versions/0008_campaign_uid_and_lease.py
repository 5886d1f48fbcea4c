"""Campaigns get a world-unique id, a delivery lease and a status reason.

- `uid`: a random UUID given at creation; message keys derive from it, so two databases
  (or installations) can never produce the same key. Campaigns that exist already get one
  too; those already launched keep the keys frozen in their delivery rows.
- `lease_owner` / `lease_expires_at`: which process is delivering the campaign, and until
  when its heartbeat vouches for it. Another process only takes over an expired lease.
- `status_reason`: why a campaign stopped by itself (e.g. the database failed mid-send).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from minicrm_desktop.models.base import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("uid", sa.String(36), nullable=True))
        batch.add_column(sa.Column("lease_owner", sa.String(255), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("status_reason", sa.String(500), nullable=True))
    bind = op.get_bind()
    campaigns = sa.table("campaigns", sa.column("id", sa.Integer), sa.column("uid", sa.String))
    for (campaign_id,) in bind.execute(sa.select(campaigns.c.id)).all():
        bind.execute(
            campaigns.update().where(campaigns.c.id == campaign_id).values(uid=str(uuid.uuid4()))
        )
    with op.batch_alter_table("campaigns") as batch:
        batch.alter_column("uid", existing_type=sa.String(36), nullable=False)
        batch.create_unique_constraint(op.f("uq_campaigns_uid"), ["uid"])


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_constraint(op.f("uq_campaigns_uid"), type_="unique")
        batch.drop_column("status_reason")
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
        batch.drop_column("uid")
