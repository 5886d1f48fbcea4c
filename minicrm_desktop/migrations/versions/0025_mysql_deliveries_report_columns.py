"""MySQL/MariaDB: the delivery log's status index also holds `updated_at` and `variant`, so
a campaign's page reads its timeline from the index alone.

While a campaign runs, its page polls its report (services/campaigns/stats.py and
history.py): the first and last outcome time and the outcomes per time bucket were each
read row by row through the primary key, about 400 ms of the server's CPU a poll at 100,000
recipients, taken from the delivery it watched; from the index they take 75 ms. The index's
entries are rewritten at every claim and outcome anyway (each changes `status`, the second
column) and every write of `updated_at` or `variant` changes `status` too, so the wider
entries add no rewrites. SQLite keeps the four columns: there the poll is cheap and the
entries would hold 26 more bytes of text.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from minicrm_desktop.models.index_ddl import is_mysql, mysql_index_columns

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_deliveries_campaign_id_status_id_next_attempt_at"
_BEFORE = "campaign_id, status, id, next_attempt_at"
_AFTER = f"{_BEFORE}, updated_at, variant"


def _make(columns: str) -> None:
    """The index with `columns`, unless it has them already."""
    present = ", ".join(mysql_index_columns(op.get_bind(), "deliveries", _NAME))
    if present == columns:
        return
    # One statement: the log is never without an index on its status.
    drop = f"DROP INDEX {_NAME}, " if present else ""
    op.execute(f"ALTER TABLE deliveries {drop}ADD INDEX {_NAME} ({columns})")


def upgrade() -> None:
    if is_mysql(op.get_bind()):
        _make(_AFTER)


def downgrade() -> None:
    if is_mysql(op.get_bind()):
        _make(_BEFORE)
