"""customers.email_rev on MySQL/MariaDB: the reversed email, generated and indexed.

An "ends with" match on email becomes a prefix match on this column, which the index
answers with a range seek. Nothing changes on SQLite (see models/engine_only.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    if not _is_mysql():
        return
    # VIRTUAL: nothing stored in the row, the index holds the values. The collation is the
    # one email_norm has (binary, NO PAD), so LIKE matches exactly as on email_norm.
    collation = "utf8mb4_nopad_bin" if getattr(op.get_bind().dialect, "is_mariadb", False) \
        else "utf8mb4_0900_bin"
    op.execute(
        "ALTER TABLE customers ADD COLUMN email_rev VARCHAR(320) CHARACTER SET utf8mb4 "
        f"COLLATE {collation} GENERATED ALWAYS AS (REVERSE(email_norm)) VIRTUAL, "
        "ADD INDEX ix_customers_email_rev (email_rev)"
    )


def downgrade() -> None:
    if not _is_mysql():
        return
    op.execute("ALTER TABLE customers DROP INDEX ix_customers_email_rev, DROP COLUMN email_rev")
