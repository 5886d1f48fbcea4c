"""What must hold for every campaign that has finished, however it got there."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import Engine, func, select

from minicrm_desktop.models.campaign import campaigns_table, deliveries_table
from minicrm_desktop.services.campaigns.addresses import normal_address
from minicrm_desktop.services.campaigns.vendor import VendorLedger

d = deliveries_table.c
c = campaigns_table.c


def assert_campaign_consistent(
    engine: Engine, campaign_id: int, ledger: Path, *, finished: bool = True
) -> Counter[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(d.customer_id, d.status, d.idempotency_key, d.reason, d.address).where(
                d.campaign_id == campaign_id
            )
        ).all()
        campaign = conn.execute(
            select(c.status, c.channel, c.audience, c.sent, c.failed, c.skipped).where(
                c.id == campaign_id
            )
        ).one()
        distinct = conn.execute(
            select(func.count(func.distinct(d.customer_id))).where(d.campaign_id == campaign_id)
        ).scalar_one()
    statuses = Counter(r.status for r in rows)
    # One row per recipient; counters equal the log.
    assert distinct == len(rows) == campaign.audience
    assert campaign.sent == statuses["sent"]
    assert campaign.failed == statuses["failed"]
    assert campaign.skipped == statuses["skipped"]
    if finished:
        # "cancelled": never sent, the campaign was
        # cancelled; what is left of the audience once the counters are settled.
        assert set(statuses) <= {"sent", "failed", "skipped", "cancelled"}, statuses
        left = campaign.audience - campaign.sent - campaign.failed - campaign.skipped
        assert statuses["cancelled"] == (left if campaign.status == "cancelled" else 0)
    # One message per normalised address: the lowest customer id holding it gets it.
    messaged: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: r.customer_id):
        if row.status != "skipped":
            normal = normal_address(campaign.channel, row.address)
            assert normal not in messaged, (row.customer_id, messaged[normal])
            messaged[normal] = row.customer_id
    for row in rows:
        if row.reason == "duplicate address":
            assert messaged[normal_address(campaign.channel, row.address)] < row.customer_id
    # The vendor's own record: at most one message per key, and it agrees with the log.
    # The ledger may be shared with other databases (whose campaign ids repeat ours): this
    # campaign's entries are those under its keys.
    keys = {r.idempotency_key for r in rows}
    entries = (
        [e for e in VendorLedger.read_entries(ledger, campaign_id) if e.key in keys]
        if ledger.exists()
        else []
    )
    # Keys are the ledger's primary key; one message per *address* is the real claim.
    per_address = Counter(normal_address(campaign.channel, e.address) for e in entries)
    assert all(n == 1 for n in per_address.values()), per_address.most_common(3)
    by_key = {e.key: e for e in entries}
    for row in rows:
        entry = by_key.get(row.idempotency_key)
        if row.status == "sent":
            assert entry is not None
            assert entry.outcome == "sent"
        if row.status in ("skipped", "cancelled"):
            assert entry is None
        if entry is not None and finished:
            assert row.status == entry.outcome
    return statuses
