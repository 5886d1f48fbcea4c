"""Initial schema: customers with their order aggregates, tags, orders.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from minicrm_desktop.models.base import NormString, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model's column types, so later model changes don't rewrite history.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MYSQL_TABLE: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def norm(length: int) -> Any:
    return NormString(length)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_norm", norm(320), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("name_norm", norm(255), nullable=True),
        sa.Column("phone", sa.String(64), nullable=True),
        sa.Column("phone_norm", norm(64), nullable=True),
        sa.Column("city", sa.String(255), nullable=True),
        sa.Column("city_norm", norm(255), nullable=True),
        sa.Column("signup_date", UTCDateTime(), nullable=False),
        sa.Column("visits", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_visit", UTCDateTime(), nullable=True),
        sa.Column("subscribed", sa.Boolean(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "total_spend_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("order_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("first_order_at", UTCDateTime(), nullable=True),
        sa.Column("last_order_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("email_norm", name=op.f("uq_customers_email_norm")),
        **MYSQL_TABLE,
    )
    for name, columns in [
        ("ix_customers_city_norm", ["city_norm"]),
        ("ix_customers_first_order_at", ["first_order_at"]),
        ("ix_customers_last_order_at", ["last_order_at"]),
        ("ix_customers_last_visit", ["last_visit"]),
        ("ix_customers_order_count_total_spend_minor", ["order_count", "total_spend_minor"]),
        ("ix_customers_signup_date", ["signup_date"]),
        ("ix_customers_total_spend_minor", ["total_spend_minor"]),
        ("ix_customers_visits", ["visits"]),
    ]:
        op.create_index(name, "customers", columns)

    op.create_table(
        "tags",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("name_norm", norm(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("name_norm", name=op.f("uq_tags_name_norm")),
        **MYSQL_TABLE,
    )
    op.create_table(
        "customer_tags",
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("tag_id", BIG_ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_tags_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_customer_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("customer_id", "tag_id", name=op.f("pk_customer_tags")),
        **MYSQL_TABLE,
    )
    op.create_index(
        "ix_customer_tags_tag_id_customer_id", "customer_tags", ["tag_id", "customer_id"]
    )
    op.create_table(
        "orders",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("order_date", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_orders_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("order_id", name=op.f("uq_orders_order_id")),
        **MYSQL_TABLE,
    )
    op.create_index(
        "ix_orders_customer_id_order_date", "orders", ["customer_id", "order_date", "amount_minor"]
    )


def downgrade() -> None:
    op.drop_table("orders")
    op.drop_table("customer_tags")
    op.drop_table("tags")
    op.drop_table("customers")
