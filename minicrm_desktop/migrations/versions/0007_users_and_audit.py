"""Users, allowed sign-in domains, and the append-only audit log.

Triggers on both engines refuse UPDATE and DELETE on audit_log, so no code path (ours or
a hand-typed statement) can rewrite history. TRUNCATE/DROP need privileges the app's
account should not be given on a shared server.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from minicrm_desktop.models.base import NormString, UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model's column types, so later model changes don't rewrite history.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MYSQL_TABLE: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}
APPEND_ONLY = "the audit log is append-only"


def norm(length: int) -> Any:
    return NormString(length)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("email", norm(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("1"), nullable=False),
        sa.Column("founder", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("added_by", sa.String(320), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_sign_in_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("founder", name=op.f("uq_users_founder")),
        **MYSQL_TABLE,
    )
    op.create_table(
        "allowed_domains",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("domain", norm(253), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("added_by", sa.String(320), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allowed_domains")),
        sa.UniqueConstraint("domain", name=op.f("uq_allowed_domains_domain")),
        **MYSQL_TABLE,
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("user_email", sa.String(320), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        **MYSQL_TABLE,
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_user_email", "audit_log", ["user_email", "id"])
    op.create_index("ix_audit_log_action", "audit_log", ["action", "id"])
    for event in ("UPDATE", "DELETE"):
        op.execute(_trigger(event))


def _trigger(event: str) -> str:
    name = f"audit_log_no_{event.lower()}"
    if op.get_bind().dialect.name == "sqlite":
        return (
            f"CREATE TRIGGER {name} BEFORE {event} ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
    return (
        f"CREATE TRIGGER {name} BEFORE {event} ON audit_log FOR EACH ROW "
        f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{APPEND_ONLY}'"
    )


def downgrade() -> None:
    for event in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{event}")
    op.drop_table("audit_log")
    op.drop_table("allowed_domains")
    op.drop_table("users")
