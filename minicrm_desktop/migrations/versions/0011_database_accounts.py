"""Each person's own database account, and the account that wrote each audit entry.

- `users.db_account`: the MySQL/MariaDB account this user connects with (NULL on SQLite
  and for users without one). Only the database's owner account can write it (column
  grants, see services/access/db_roles.py), through the procedures it installs.
- `audit_log.db_account`: who wrote the entry as the server saw them. On MySQL a trigger
  fills it from SESSION_USER() (the client's account, even inside a definer's procedure);
  whatever a client sends is overwritten. On SQLite there are no accounts: a client that
  sets it is refused.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCOUNT_TRIGGER = "audit_log_db_account"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("db_account", sa.String(80), nullable=True))
        batch.create_unique_constraint(op.f("uq_users_db_account"), ["db_account"])
    # Not batch: on SQLite a batch copy of audit_log would drop its append-only triggers.
    op.add_column("audit_log", sa.Column("db_account", sa.String(400), nullable=True))
    op.execute(account_trigger(op.get_bind().dialect.name))


def account_trigger(dialect: str) -> str:
    """The trigger that makes `audit_log.db_account` the server's word (frozen here)."""
    if dialect == "sqlite":
        return (
            f"CREATE TRIGGER {ACCOUNT_TRIGGER} BEFORE INSERT ON audit_log "
            "WHEN NEW.db_account IS NOT NULL "
            "BEGIN SELECT RAISE(ABORT, 'audit_log.db_account is set by the server'); END"
        )
    return (
        f"CREATE TRIGGER {ACCOUNT_TRIGGER} BEFORE INSERT ON audit_log FOR EACH ROW "
        "SET NEW.db_account = SESSION_USER()"
    )


def downgrade() -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {ACCOUNT_TRIGGER}")
    # Not batch either: SQLite 3.35+ drops a column in place, keeping the other triggers.
    op.drop_column("audit_log", "db_account")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_db_account"), type_="unique")
        batch.drop_column("db_account")
