"""Saved segments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from minicrm_desktop.models.base import NormString, UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model's column types, so later model changes don't rewrite history.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MYSQL_TABLE: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}
RULE_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


# Segment counts at scale: string `contains` scans a narrow index; spend/date/consent
# trees seek or scan one covering index instead of the table.
SEGMENT_INDEXES = [
    ("ix_customers_name_norm", ["name_norm"]),
    ("ix_customers_phone_norm", ["phone_norm"]),
    (
        "ix_customers_spend_activity",
        ["total_spend_minor", "last_order_at", "order_count", "subscribed"],
    ),
]


def norm(length: int) -> Any:
    return NormString(length)


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_norm", norm(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("rule_json", RULE_TEXT, nullable=False),
        sa.Column("author", sa.String(255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name_norm", name=op.f("uq_segments_name_norm")),
        **MYSQL_TABLE,
    )
    for name, columns in SEGMENT_INDEXES:
        op.create_index(name, "customers", columns)


def downgrade() -> None:
    for name, _ in SEGMENT_INDEXES:
        op.drop_index(name, "customers")
    op.drop_table("segments")
