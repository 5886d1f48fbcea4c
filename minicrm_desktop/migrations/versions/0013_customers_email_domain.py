"""customers.email_domain on MySQL/MariaDB: the part of the email after the @, generated
and indexed, for the rule builder's domain suggestions. Nothing changes on SQLite (see
models/engine_only.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    if not _is_mysql():
        return
    # VIRTUAL: nothing stored in the row, the index holds the values; binary NO PAD, as
    # email_norm (an address holds a single @, so this is its whole domain).
    collation = "utf8mb4_nopad_bin" if getattr(op.get_bind().dialect, "is_mariadb", False) \
        else "utf8mb4_0900_bin"
    op.execute(
        "ALTER TABLE customers ADD COLUMN email_domain VARCHAR(320) CHARACTER SET utf8mb4 "
        f"COLLATE {collation} GENERATED ALWAYS AS (SUBSTRING_INDEX(email_norm, '@', -1)) "
        "VIRTUAL, ADD INDEX ix_customers_email_domain (email_domain)"
    )


def downgrade() -> None:
    if not _is_mysql():
        return
    op.execute(
        "ALTER TABLE customers DROP INDEX ix_customers_email_domain, DROP COLUMN email_domain")
