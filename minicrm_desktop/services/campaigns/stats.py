"""Read-only campaign queries the views need: outcomes over time, the log page by page,
and which campaigns the app must (re)start. Qt-free; every value is a bound parameter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, case, func, select

from ...models.campaign import (
    CampaignStatus,
    DeliveryStatus,
    campaigns_table,
    deliveries_table,
)
from ...models.tables import customers_table

c = campaigns_table.c
d = deliveries_table.c
_OUTCOMES = (DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value)


@dataclass(frozen=True)
class OutcomeBucket:
    """Messages whose outcome was recorded in [start, end)."""

    start: datetime
    end: datetime
    sent: int
    failed: int


@dataclass(frozen=True)
class LogRow:
    id: int
    email: str
    address: str | None
    variant: str
    status: str
    reason: str | None
    attempts: int
    updated_at: datetime


def outcomes_over_time(engine: Engine, campaign_id: int, buckets: int = 20) -> list[OutcomeBucket]:
    """Sent and failed messages per time bucket, from the log's `updated_at`; the span from
    the first to the last outcome is cut into `buckets` equal parts (one query each way)."""
    base = (d.campaign_id == campaign_id, d.status.in_(_OUTCOMES))
    with engine.connect() as conn:
        first, last = conn.execute(select(func.min(d.updated_at), func.max(d.updated_at))
                                   .where(*base)).one()
        if first is None or last is None:
            return []
        buckets = max(2, buckets)
        span = max(last - first, timedelta(seconds=1))
        width = span / buckets
        edges = [first + width * (i + 1) for i in range(buckets - 1)]
        bucket = case(*[(d.updated_at < edge, i) for i, edge in enumerate(edges)],
                      else_=buckets - 1).label("bucket")
        rows = conn.execute(
            select(bucket, d.status, func.count()).where(*base).group_by(bucket, d.status)
        ).all()
    counts = [[0, 0] for _ in range(buckets)]
    for index, status, n in rows:
        counts[int(index)][0 if status == DeliveryStatus.SENT.value else 1] += int(n)
    return [
        OutcomeBucket(first + width * i, first + width * (i + 1), sent, failed)
        for i, (sent, failed) in enumerate(counts)
    ]


def log_page(
    engine: Engine,
    campaign_id: int,
    *,
    after_id: int = 0,
    limit: int = 200,
    status: DeliveryStatus | None = None,
) -> list[LogRow]:
    """One page of the per-recipient log in delivery-id order (keyset on the id)."""
    cust = customers_table.c
    stmt = (
        select(d.id, cust.email, d.address, d.variant, d.status, d.reason, d.attempts,
               d.updated_at)
        .join_from(deliveries_table, customers_table, cust.id == d.customer_id)
        .where(d.campaign_id == campaign_id, d.id > after_id)
        .order_by(d.id)
        .limit(limit)
    )
    if status is not None:
        stmt = stmt.where(d.status == status.value)
    with engine.connect() as conn:
        return [LogRow(*row) for row in conn.execute(stmt)]


def campaigns_in_status(engine: Engine, status: CampaignStatus) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(c.id).where(c.status == status.value)
                                 .order_by(c.id)).scalars())


def due_campaigns(engine: Engine, now: datetime) -> list[int]:
    """Scheduled campaigns whose time has come, oldest schedule first."""
    with engine.connect() as conn:
        return list(conn.execute(
            select(c.id)
            .where(c.status == CampaignStatus.SCHEDULED.value, c.scheduled_at <= now)
            .order_by(c.scheduled_at, c.id)
        ).scalars())
