"""Keep on `deliveries` only the indexes a query uses: every claim and outcome rewrote an
entry in each index holding `status` or `updated_at`.

- ix_deliveries_campaign_id_status_id and ix_deliveries_campaign_id_status_next_attempt_at
  become one, (campaign_id, status, id, next_attempt_at): the log filtered by status pages
  through it by id as before, and claims find due rows in it by id, the retry time read
  from the index itself (claims.py).
- ix_deliveries_campaign_id_updated_at and ix_deliveries_customer_id_updated_at go: no query
  searches them (the outcomes-over-time chart reads a campaign's rows by status, the
  frequency cap scans the log whichever way).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy import inspect

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MERGED = "ix_deliveries_campaign_id_status_id_next_attempt_at"
# The indexes this revision drops, with their columns (to make them again on the way down).
DROPPED = {
    "ix_deliveries_campaign_id_status_id": ["campaign_id", "status", "id"],
    "ix_deliveries_campaign_id_status_next_attempt_at": [
        "campaign_id", "status", "next_attempt_at"],
    "ix_deliveries_campaign_id_updated_at": ["campaign_id", "updated_at"],
    "ix_deliveries_customer_id_updated_at": ["customer_id", "updated_at"],
}


def _present() -> set[str]:
    return {str(ix["name"]) for ix in inspect(op.get_bind()).get_indexes("deliveries")}


# Each step checks what is there: a database whose recorded version was set back (a restore,
# a repair) runs this again over the indexes it already has.
def upgrade() -> None:
    present = _present()
    # The new index first: queries by campaign and status always have one.
    if MERGED not in present:
        op.create_index(MERGED, "deliveries", ["campaign_id", "status", "id", "next_attempt_at"])
    for name in DROPPED.keys() & present:
        op.drop_index(name, table_name="deliveries")


def downgrade() -> None:
    present = _present()
    for name, columns in DROPPED.items():
        if name not in present:
            op.create_index(name, "deliveries", columns)
    if MERGED in present:
        op.drop_index(MERGED, table_name="deliveries")
