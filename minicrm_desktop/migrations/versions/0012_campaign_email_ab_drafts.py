"""Campaigns: email essentials, A/B with a winner, wizard drafts; deliveries: opened.

- `subject`, `sender_name`, `sender_address`, `footer`: what an email carries besides its
  body; `link_secret` keys the per-recipient unsubscribe links; `test_sends` numbers the
  test sends (which change no other figure).
- `ab_test_share`, `ab_wait_seconds`, `ab_metric`, `ab_decide_at`, `ab_winner`,
  `ab_reason`: a test share gets the variants, the rest is held (deliveries.status
  'held') until the winner is chosen; the choice and why are kept.
- `wizard_json`, `updated_at`: a draft saved from the wizard, reopened where it was left.
- deliveries.`opened`: the simulated vendor's engagement for a sent message.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from minicrm_desktop.models.base import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CAMPAIGN_COLUMNS = (
    ("subject", sa.String(500)),
    ("sender_name", sa.String(200)),
    ("sender_address", sa.String(320)),
    ("footer", sa.Text()),
    ("link_secret", sa.String(64)),
    ("ab_test_share", sa.Integer()),
    ("ab_wait_seconds", sa.Integer()),
    ("ab_metric", sa.String(12)),
    ("ab_decide_at", UTCDateTime()),
    ("ab_winner", sa.String(1)),
    ("ab_reason", sa.String(500)),
    ("wizard_json", sa.Text()),
    ("updated_at", UTCDateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        for name, type_ in _CAMPAIGN_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.add_column(
            sa.Column("test_sends", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("opened", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("opened")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("test_sends")
        for name, _type in reversed(_CAMPAIGN_COLUMNS):
            batch.drop_column(name)
