"""Campaigns, their variants and the per-recipient delivery log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from minicrm_desktop.models.base import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MYSQL_TABLE: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}
RULE_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("objective", sa.String(500), nullable=False),
        sa.Column("rule_json", RULE_TEXT, nullable=False),
        sa.Column("segment_id", BIG_ID, nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("as_of", UTCDateTime(), nullable=True),
        sa.Column("scheduled_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("rate_per_second", sa.Integer(), nullable=True),
        sa.Column("max_attempts", sa.Integer(), server_default=sa.text("3"), nullable=False),
        sa.Column("recent_hours", sa.Integer(), nullable=True),
        sa.Column("vendor_json", sa.Text(), nullable=False),
        sa.Column("audience", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sent", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("skipped", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_campaigns_segment_id_segments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        **MYSQL_TABLE,
    )
    op.create_index("ix_campaigns_status", "campaigns", ["status"])
    op.create_index("ix_campaigns_scheduled_at", "campaigns", ["scheduled_at"])
    op.create_index("ix_campaigns_created_at", "campaigns", ["created_at"])

    op.create_table(
        "campaign_variants",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", BIG_ID, nullable=False),
        sa.Column("label", sa.String(1), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_variants_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_variants")),
        sa.UniqueConstraint("campaign_id", "label", name="uq_campaign_variants_campaign_id_label"),
        **MYSQL_TABLE,
    )

    op.create_table(
        "deliveries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("address", sa.String(320), nullable=True),
        sa.Column("variant", sa.String(1), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("claim", sa.String(32), nullable=True),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_deliveries_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "campaign_id", "customer_id", name="uq_deliveries_campaign_id_customer_id"
        ),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_deliveries_idempotency_key")),
        **MYSQL_TABLE,
    )
    for name, columns in [
        ("ix_deliveries_campaign_id_id", ["campaign_id", "id"]),
        ("ix_deliveries_campaign_id_status_id", ["campaign_id", "status", "id"]),
        (
            "ix_deliveries_campaign_id_status_next_attempt_at",
            ["campaign_id", "status", "next_attempt_at"],
        ),
        ("ix_deliveries_campaign_id_updated_at", ["campaign_id", "updated_at"]),
        ("ix_deliveries_customer_id_updated_at", ["customer_id", "updated_at"]),
        ("ix_deliveries_claim", ["claim"]),
    ]:
        op.create_index(name, "deliveries", columns)


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("campaign_variants")
    op.drop_table("campaigns")
