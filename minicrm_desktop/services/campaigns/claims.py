"""Claiming work: queued rows become `sending` under a claim token, in one transaction that
also checks the lease; a stopped worker gives its unsent rows back.

Rows are found by the claim's index on (campaign, status, next attempt) and then handled by
primary key only: no index on the claim token is needed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Integer, bindparam, func, select, update

from ...models.base import UTCDateTime, utcnow
from ...models.tables import customers_table
from .lease import (
    QUEUED,
    SENDING,
    _hold_lease,
    _live_holder,
    _lock_campaign,
    _requeue_sending,
    d,
    db_now,
    deliveries_table,
)


@dataclass(frozen=True)
class ClaimedMessage:
    """A claimed delivery with what rendering needs (plain data: it crosses threads)."""

    delivery_id: int
    customer_id: int
    address: str
    variant: str
    attempts: int
    key: str
    customer: dict[str, Any]


cust = customers_table.c
# Built once: each claim only binds values (no expression building per call).
_DUE_IDS = (
    select(d.id)
    .where(
        d.campaign_id == bindparam("campaign_id"),
        d.status == QUEUED,
        d.next_attempt_at.is_(None) | (d.next_attempt_at <= bindparam("now", type_=UTCDateTime())),
    )
    # Never-tried rows (no retry time) first, then retries in the order they fell due.
    .order_by(d.next_attempt_at, d.id)
    .limit(bindparam("limit", type_=Integer()))
)
# Without the lease's lock (MySQL), concurrent claimers skip each other's rows.
_DUE_IDS_LOCKED = _DUE_IDS.with_for_update(skip_locked=True)
_TAKE = (
    update(deliveries_table)
    .where(d.id.in_(bindparam("ids", expanding=True)), d.status == QUEUED)
    # updated_at is left as it was: it dates outcomes (the timeline reads it), and a claim
    # that moved it would rewrite two more index entries per row.
    .values(status=SENDING, claim=bindparam("token"))
)
_CLAIMED = (
    select(d.id, d.customer_id, d.address, d.variant, d.attempts, d.idempotency_key,
           cust.name, cust.email, cust.city, cust.total_spend_minor, cust.last_order_at)
    .join_from(deliveries_table, customers_table, cust.id == d.customer_id)
    .where(d.id.in_(bindparam("ids", expanding=True)), d.claim == bindparam("token"),
           d.status == SENDING)
    .order_by(d.id)
)


# SQLite hands a result over one row per step, letting go of the GIL around each: with the
# workers busy, each row then waits to get it back (up to a switch interval). The writer
# reads a claim's rows as one JSON row instead, a single step (MySQL's driver reads the
# whole result at once anyway).
_due = _DUE_IDS.subquery()
_DUE_IDS_JSON = select(func.json_group_array(_due.c.id))
_claimed = _CLAIMED.subquery()
_CLAIMED_JSON = select(func.json_group_array(func.json_array(*_claimed.c)))
_TIME = UTCDateTime()


def claim(
    engine: Engine, campaign_id: int, token: str, limit: int, *, owner: str | None = None
) -> list[ClaimedMessage]:
    """Atomically take up to `limit` due queued rows for this worker. With `owner`, only
    while that process holds the campaign's lease (else LeaseLost), in the same transaction."""
    with engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if owner is not None:
            _hold_lease(conn, campaign_id, owner)
        elif sqlite:
            _lock_campaign(conn, campaign_id)  # the write lock first: select and claim as one
        rows = take(conn, campaign_id, token, limit, leased=owner is not None)
    return messages(rows)


def take(
    conn: Connection, campaign_id: int, token: str, limit: int, *, leased: bool
) -> Sequence[Any]:
    """The claim's statements, in the caller's transaction: with `leased`, the caller holds
    the lease's lock (_hold_lease); without, on SQLite, the database's write lock."""
    sqlite = conn.dialect.name == "sqlite"
    # SQLite runs one writer at a time, and this transaction already writes. On MySQL
    # the lease's row lock, held to the end of this transaction, already makes claims of
    # the campaign one at a time: a plain read finds the due rows (locking each one cost
    # more than the rest of the claim), and _TAKE's own `status = queued` takes only
    # rows still queued, which _CLAIMED then reads by the token. Without the lease, the
    # rows are locked, skipping those another transaction holds.
    due = {"campaign_id": campaign_id, "now": utcnow(), "limit": limit}
    if sqlite:
        taken = json.loads(conn.execute(_DUE_IDS_JSON, due).scalar_one())
    else:
        taken = conn.execute(_DUE_IDS if leased else _DUE_IDS_LOCKED, due).scalars().all()
    if not taken:
        return []
    conn.execute(_TAKE, {"ids": taken, "token": token})
    if not sqlite:
        return conn.execute(_CLAIMED, {"ids": taken, "token": token}).all()
    rows = json.loads(conn.execute(_CLAIMED_JSON, {"ids": taken, "token": token}).scalar_one())
    # JSON carries the stored text of the last order's time: the column type reads it.
    to_time = _TIME.dialect_impl(conn.dialect).result_processor(conn.dialect, None)
    if to_time is not None:
        for row in rows:
            row[-1] = to_time(row[-1])
    rows.sort()  # by id, as _CLAIMED orders them
    return rows


def messages(rows: Sequence[Any]) -> list[ClaimedMessage]:
    """Claimed rows as plain data (made after the commit: no lock is held meanwhile)."""
    return [
        ClaimedMessage(delivery_id, customer_id, address, variant, attempts, key,
                       {"name": name, "email": email, "city": city,
                        "total_spend_minor": spend, "last_order_at": last_order})
        for (delivery_id, customer_id, address, variant, attempts, key, name, email, city,
             spend, last_order) in rows
    ]


def release(engine: Engine, token: str, delivery_ids: Sequence[int]) -> None:
    """Give claimed rows back to the queue (a pause stopped the worker mid-chunk)."""
    if delivery_ids:
        with engine.begin() as conn:
            conn.execute(
                update(deliveries_table)
                .where(d.id.in_(list(delivery_ids)), d.claim == token, d.status == SENDING)
                .values(status=QUEUED, claim=None)
            )


def release_abandoned(engine: Engine, campaign_id: int) -> int:
    """Requeue rows claimed by a run that no longer exists (the app was killed): only when
    no live process holds the campaign's lease, whose claims are its own business."""
    with engine.begin() as conn:
        row = _lock_campaign(conn, campaign_id)
        if row is None or _live_holder(row, db_now(conn), None) is not None:
            return 0
        return _requeue_sending(conn, campaign_id)


def queued_count(engine: Engine, campaign_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(d.campaign_id == campaign_id, d.status == QUEUED)
            ).scalar_one()
        )


def seconds_until_due(engine: Engine, campaign_id: int) -> float | None:
    """How long until the next queued row falls due (0: now); None when none is queued.
    One index probe: never a scan of the queue, since idle workers ask often."""
    with engine.connect() as conn:
        row = conn.execute(
            select(d.next_attempt_at)
            .where(d.campaign_id == campaign_id, d.status == QUEUED)
            .order_by(d.next_attempt_at)
            .limit(1)
        ).first()
    if row is None:
        return None
    if row[0] is None:
        return 0.0
    return max(0.0, (row[0] - utcnow()).total_seconds())

