"""Accounts are (issuer, subject); a database records whom it trusts and whether it may
still be founded.

- `users.issuer`: with `subject`, who the account is (unique together; compared exactly).
  Accounts from before this revision keep their subject and get no issuer: only that
  subject may claim them, and its sign-in records the issuer.
- `trusted_issuers`: identity providers whose ID tokens may sign in here. Every database
  trusts Google; a development database may be made to trust the development identity
  provider explicitly (`minicrm init-db --trust-dev-idp URL`).
- `database_settings`: `founding` is `open` only for a database that held no data when
  this revision ran (a fresh one): only then may the first sign-in found it as admin. A
  database upgraded with data (customers, users, …) is `closed`: its first admin is named
  by its operator (`minicrm users add EMAIL --role admin --operator`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from minicrm_desktop.models.base import NormString, UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_TABLE: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GOOGLE_ISSUER = "https://accounts.google.com"
#: Any row in one of these means the database is in use: it is not founded by a sign-in.
DATA_TABLES = ("users", "audit_log", "customers", "orders", "segments", "campaigns",
               "allowed_domains")


def upgrade() -> None:
    bind = op.get_bind()
    in_use = any(bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first()
                 for table in DATA_TABLES)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("issuer", NormString(255), nullable=True))
        batch.alter_column("subject", existing_type=sa.String(255), type_=NormString(255),
                           existing_nullable=True)
        batch.create_unique_constraint(op.f("uq_users_issuer"), ["issuer", "subject"])
    trusted = op.create_table(
        "trusted_issuers",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("issuer", NormString(255), nullable=False),
        sa.Column("added_by", sa.String(320), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_issuers")),
        sa.UniqueConstraint("issuer", name=op.f("uq_trusted_issuers_issuer")),
        **MYSQL_TABLE,
    )
    settings = op.create_table(
        "database_settings",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_database_settings")),
        **MYSQL_TABLE,
    )
    op.bulk_insert(trusted, [{"issuer": GOOGLE_ISSUER, "added_by": None,
                              "created_at": datetime.now(UTC)}])
    op.bulk_insert(settings, [{"name": "founding", "value": "closed" if in_use else "open"}])


def downgrade() -> None:
    op.drop_table("database_settings")
    op.drop_table("trusted_issuers")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_issuer"), type_="unique")
        batch.alter_column("subject", existing_type=NormString(255), type_=sa.String(255),
                           existing_nullable=True)
        batch.drop_column("issuer")
