"""The delivery lease: one process at a time delivers a campaign.

The holder is campaigns.lease_owner until lease_expires_at, on the database's clock. It
claims only while its lease is valid, checked in the claim's own transaction (_hold_lease).
Claims are requeued only by a process that takes a lease that is free or expired: then
every `sending` row belongs to a process that stopped, and resending it is safe because
the vendor recognises the idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, literal, select, text, update
from sqlalchemy.sql.elements import ColumnElement

from ...models.base import UTCDateTime, utcnow
from ...models.campaign import (
    CampaignStatus,
    DeliveryStatus,
    campaigns_table,
    deliveries_table,
)
from ..access.actor import SYSTEM
from ..access.audit import Action, record
from .events import CampaignCounts

d = deliveries_table.c
c = campaigns_table.c
QUEUED = DeliveryStatus.QUEUED.value
SENDING = DeliveryStatus.SENDING.value
HELD = DeliveryStatus.HELD.value
RUNNING = CampaignStatus.RUNNING.value
REASON_LEN = 500


class LeaseLost(Exception):
    """The process no longer holds the campaign's lease (it expired and was taken over,
    or the campaign stopped running): it must not claim or send any more."""


@dataclass(frozen=True)
class LeaseGrant:
    """The outcome of asking for a campaign's lease."""

    acquired: bool
    status: str | None  # the campaign's status (None: there is no such campaign)
    holder: str | None = None  # who holds a live lease when it was not acquired
    requeued: int = 0  # claims of a stopped process put back in the queue


@dataclass(frozen=True)
class DeliveryState:
    """Who delivers a campaign and how far it got, for windows that watch (plain data)."""

    counts: CampaignCounts
    owner: str | None  # the live lease's holder; None when nobody delivers it now
    reason: str | None  # why it was last stopped (a database error, …)


def db_now(conn: Connection) -> datetime:
    """The clock leases are measured on: the server's on MariaDB (so every host agrees),
    this machine's on SQLite (every process on the file shares it)."""
    if conn.dialect.name == "sqlite":
        return utcnow()
    value = conn.execute(text("SELECT UTC_TIMESTAMP(6)")).scalar_one()
    return UTCDateTime().process_result_value(value, conn.dialect) or utcnow()


def _now_expr(conn: Connection) -> ColumnElement[Any]:
    if conn.dialect.name == "sqlite":
        return literal(utcnow(), UTCDateTime())
    return func.utc_timestamp(6)


def _lock_campaign(conn: Connection, campaign_id: int) -> Any:
    """Lock the campaign's row for this transaction and read its status and lease. SQLite
    has no row locks: a write that changes nothing takes the database's write lock."""
    if conn.dialect.name == "sqlite":
        conn.execute(
            update(campaigns_table).where(c.id == campaign_id).values(lease_owner=c.lease_owner)
        )
    stmt = select(c.status, c.lease_owner, c.lease_expires_at).where(c.id == campaign_id)
    if conn.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).one_or_none()


def _live_holder(row: Any, now: datetime, me: str | None) -> str | None:
    """Another process whose lease has not expired, if any."""
    if row.lease_owner in (None, me) or row.lease_expires_at is None:
        return None
    return str(row.lease_owner) if row.lease_expires_at > now else None


def _requeue_sending(conn: Connection, campaign_id: int) -> int:
    return int(
        conn.execute(
            update(deliveries_table)
            .where(d.campaign_id == campaign_id, d.status == SENDING)
            .values(status=QUEUED, claim=None)
        ).rowcount
    )


def acquire_lease(engine: Engine, campaign_id: int, owner: str, ttl: float) -> LeaseGrant:
    """Take a running campaign's lease for a new run if it is free, expired or already
    ours. This process has no run of the campaign and no other live process has one, so
    every `sending` row is a stopped process's claim: it goes back to the queue."""
    with engine.begin() as conn:
        row = _lock_campaign(conn, campaign_id)
        if row is None:
            return LeaseGrant(False, None)
        now = db_now(conn)
        holder = _live_holder(row, now, owner)
        if row.status != RUNNING or holder is not None:
            return LeaseGrant(False, row.status, holder)
        conn.execute(
            update(campaigns_table)
            .where(c.id == campaign_id)
            .values(
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=ttl),
                status_reason=None,
            )
        )
        return LeaseGrant(True, row.status, None, _requeue_sending(conn, campaign_id))


def renew_lease(engine: Engine, campaign_id: int, owner: str, ttl: float) -> str | None:
    """Extend our lease; returns the campaign's status (the owner obeys a pause or cancel
    made elsewhere), or None when the lease is no longer ours."""
    with engine.begin() as conn:
        now = db_now(conn)
        renewed = conn.execute(
            update(campaigns_table)
            .where(c.id == campaign_id, c.lease_owner == owner)
            .values(lease_expires_at=now + timedelta(seconds=ttl))
        ).rowcount
        if renewed != 1:
            return None
        return str(conn.execute(select(c.status).where(c.id == campaign_id)).scalar_one())


def release_lease(engine: Engine, campaign_id: int, owner: str) -> None:
    with engine.begin() as conn:
        _release_lease(conn, campaign_id, owner)


def _release_lease(conn: Connection, campaign_id: int, owner: str) -> None:
    conn.execute(
        update(campaigns_table)
        .where(c.id == campaign_id, c.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )


def _hold_lease(conn: Connection, campaign_id: int, owner: str) -> None:
    """Check, and keep until this transaction ends, that `owner` holds a valid lease on a
    running campaign; a takeover waits for the transaction (it locks the row first)."""
    if not _lease_held(conn, campaign_id, owner):
        raise LeaseLost(f"campaign {campaign_id}: the delivery lease is no longer held")


def _lease_held(conn: Connection, campaign_id: int, owner: str) -> bool:
    """_hold_lease without the exception: whether the lease is held (if so, its row stays
    locked to the end of the transaction)."""
    valid = and_(
        c.id == campaign_id,
        c.status == RUNNING,
        c.lease_owner == owner,
        c.lease_expires_at > _now_expr(conn),
    )
    if conn.dialect.name == "sqlite":
        held = conn.execute(
            update(campaigns_table).where(valid).values(lease_owner=c.lease_owner)
        ).rowcount
    else:
        held = len(conn.execute(select(c.id).where(valid).with_for_update()).all())
    return held == 1


def pause_for_fault(engine: Engine, campaign_id: int, owner: str, reason: str) -> str | None:
    """A run stopped by a fault: pause its campaign (if still running) with the reason, and
    give the lease up. Returns the status, or None if another process holds the lease."""
    with engine.begin() as conn:
        row = _lock_campaign(conn, campaign_id)
        if row is None or row.lease_owner not in (None, owner):
            return None
        status = str(row.status)
        if status == RUNNING:
            conn.execute(
                update(campaigns_table)
                .where(c.id == campaign_id)
                .values(status=CampaignStatus.PAUSED.value, status_reason=reason[:REASON_LEN])
            )
            record(conn, SYSTEM, Action.CAMPAIGN_PAUSE, {"campaign_id": campaign_id,
                                                        "reason": reason[:REASON_LEN]})
            status = CampaignStatus.PAUSED.value
        _release_lease(conn, campaign_id, owner)
        return status


def delivery_state(engine: Engine, campaign_id: int) -> DeliveryState | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(
                c.status,
                c.audience,
                c.sent,
                c.failed,
                c.skipped,
                c.lease_owner,
                c.lease_expires_at,
                c.status_reason,
            ).where(c.id == campaign_id)
        ).one_or_none()
        if row is None:
            return None
        now = db_now(conn)
    live = row.lease_owner is not None and row.lease_expires_at is not None and (
        row.lease_expires_at > now
    )
    return DeliveryState(
        CampaignCounts(campaign_id, row.status, row.audience, row.sent, row.failed, row.skipped),
        row.lease_owner if live and row.status == RUNNING else None,
        row.status_reason,
    )
