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


#: Bucket widths in whole seconds that read well on a clock (1 s up to a day).
NICE_SECONDS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                43200, 86400)


def bucket_seconds(span: timedelta, buckets: int) -> int:
    """The smallest clock-friendly width that cuts `span` into at most `buckets` parts."""
    for size in NICE_SECONDS:
        if span.total_seconds() < size * (buckets - 1) or size == NICE_SECONDS[-1]:
            return size
    return NICE_SECONDS[-1]


def outcomes_over_time(engine: Engine, campaign_id: int, buckets: int = 20) -> list[OutcomeBucket]:
    """Sent and failed messages per time bucket, from the log's `updated_at`: at most
    `buckets` buckets of a whole, clock-friendly number of seconds, aligned on the clock
    (so each starts at a time a person reads easily), one query each way."""
    base = (d.campaign_id == campaign_id, d.status.in_(_OUTCOMES))
    with engine.connect() as conn:
        first, last = conn.execute(select(func.min(d.updated_at), func.max(d.updated_at))
                                   .where(*base)).one()
        if first is None or last is None:
            return []
        buckets = max(2, buckets)
        size = bucket_seconds(last - first, buckets)
        width = timedelta(seconds=size)
        day = first.replace(hour=0, minute=0, second=0, microsecond=0)
        start = day + width * ((first - day) // width)
        count = max(2, min(buckets, int((last - start) // width) + 1))
        edges = [start + width * (i + 1) for i in range(count - 1)]
        bucket = case(*[(d.updated_at < edge, i) for i, edge in enumerate(edges)],
                      else_=count - 1).label("bucket")
        rows = conn.execute(
            select(bucket, d.status, func.count()).where(*base).group_by(bucket, d.status)
        ).all()
    counts = [[0, 0] for _ in range(count)]
    for index, status, n in rows:
        counts[int(index)][0 if status == DeliveryStatus.SENT.value else 1] += int(n)
    return [
        OutcomeBucket(start + width * i, start + width * (i + 1), sent, failed)
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
