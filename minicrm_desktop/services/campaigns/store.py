"""The delivery log's state changes, each one atomic on SQLite and MySQL/MariaDB.

Workers claim queued rows (queued -> sending, stamped with their claim token) and the
writer records outcomes (sending -> sent/failed, or back to queued for a retry) only where
the row still carries that claim.

One process at a time delivers a campaign: the one holding its lease (campaigns.lease_owner
until lease_expires_at, on the database's clock). It claims only while its lease is valid,
checked in the claim's own transaction. Claims are requeued only by a process that takes a
lease that is free or expired: then every `sending` row belongs to a process that stopped,
and resending it is safe because the vendor recognises the idempotency key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, literal, select, text, update
from sqlalchemy.sql.elements import ColumnElement

from minicrm_desktop.services.bulkload.bulk import placeholders, storage_timestamp

from ...models.base import UTCDateTime, utcnow
from ...models.campaign import (
    CampaignStatus,
    DeliveryStatus,
    campaigns_table,
    deliveries_table,
    variants_table,
)
from ...models.tables import customers_table
from ..access.actor import SYSTEM, Actor, Permission
from ..access.audit import Action, record
from ..access.users import authorize
from .email import sender_line
from .events import CampaignCounts, DeliveryEvent
from .vendor import VendorConfig

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
class ClaimedMessage:
    """A claimed delivery with what rendering needs (plain data: it crosses threads)."""

    delivery_id: int
    customer_id: int
    address: str
    variant: str
    attempts: int
    key: str
    customer: dict[str, Any]


@dataclass(frozen=True)
class CampaignPlan:
    """What a run needs to know about its campaign."""

    campaign_id: int
    channel: str
    status: str
    templates: dict[str, str]
    rate_per_second: int | None
    max_attempts: int
    vendor: VendorConfig
    # Email only: the subject template, "Name <address>", the footer template, and the
    # secret of the unsubscribe links.
    subject: str | None = None
    sender: str | None = None
    footer: str | None = None
    link_secret: str = ""


def load_plan(engine: Engine, campaign_id: int) -> CampaignPlan | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(c.channel, c.status, c.rate_per_second, c.max_attempts, c.vendor_json,
                   c.uid, c.subject, c.sender_name, c.sender_address, c.footer,
                   c.link_secret).where(c.id == campaign_id)
        ).one_or_none()
        if row is None:
            return None
        templates = dict(
            conn.execute(
                select(variants_table.c.label, variants_table.c.template).where(
                    variants_table.c.campaign_id == campaign_id
                )
            ).all()
        )
    return CampaignPlan(
        campaign_id,
        row.channel,
        row.status,
        templates,
        row.rate_per_second,
        row.max_attempts,
        VendorConfig.from_dict(json.loads(row.vendor_json or "{}")),
        row.subject,
        sender_line(row.sender_name, row.sender_address),
        row.footer,
        row.link_secret or row.uid,  # campaigns made before the secret: their uid
    )


def claim(
    engine: Engine, campaign_id: int, token: str, limit: int, *, owner: str | None = None
) -> list[ClaimedMessage]:
    """Atomically take up to `limit` due queued rows for this worker. With `owner`, only
    while that process holds the campaign's lease (else LeaseLost), in the same transaction."""
    now = utcnow()
    due = and_(
        d.campaign_id == campaign_id,
        d.status == QUEUED,
        (d.next_attempt_at.is_(None)) | (d.next_attempt_at <= now),
    )
    with engine.begin() as conn:
        if owner is not None:
            _hold_lease(conn, campaign_id, owner)
        # Never-tried rows (no retry time) first, then retries in the order they fell due.
        ids = select(d.id).where(due).order_by(d.next_attempt_at, d.id).limit(limit)
        if conn.dialect.name == "sqlite":
            # SQLite runs one writer at a time: selecting inside the UPDATE is atomic.
            conn.execute(
                update(deliveries_table)
                .where(d.id.in_(ids.scalar_subquery()))
                .values(status=SENDING, claim=token, updated_at=now)
            )
        else:
            # MySQL cannot UPDATE a table it selects from; lock the rows, skipping those
            # another worker holds, then claim them.
            locked = list(conn.execute(ids.with_for_update(skip_locked=True)).scalars())
            if locked:
                conn.execute(
                    update(deliveries_table)
                    .where(d.id.in_(locked), d.status == QUEUED)
                    .values(status=SENDING, claim=token, updated_at=now)
                )
        cust = customers_table.c
        rows = conn.execute(
            select(
                d.id,
                d.customer_id,
                d.address,
                d.variant,
                d.attempts,
                d.idempotency_key,
                cust.name,
                cust.email,
                cust.city,
                cust.total_spend_minor,
                cust.last_order_at,
            )
            .join_from(deliveries_table, customers_table, cust.id == d.customer_id)
            .where(d.claim == token, d.status == SENDING)
            .order_by(d.id)
        ).all()
    return [
        ClaimedMessage(
            r.id,
            r.customer_id,
            r.address,
            r.variant,
            r.attempts,
            r.idempotency_key,
            {
                "name": r.name,
                "email": r.email,
                "city": r.city,
                "total_spend_minor": r.total_spend_minor,
                "last_order_at": r.last_order_at,
            },
        )
        for r in rows
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


def apply_events(conn: Connection, events: Sequence[DeliveryEvent]) -> dict[int, tuple[int, int]]:
    """Record outcomes whose rows still carry the worker's claim; return per campaign the
    (sent, failed) actually recorded, so the counters move exactly with the log."""
    sql = (
        "UPDATE deliveries SET status = {p}, reason = {p}, attempts = {p}, updated_at = {p}, "
        "next_attempt_at = {p}, claim = {p}, opened = {p} "
        "WHERE id = {p} AND status = 'sending' AND claim = {p}"
    ).format(p=placeholders(conn, 1))
    driver = conn.connection.driver_connection
    assert driver is not None
    # Per-row statements on the driver's cursor: each rowcount says whether the claim held.
    cursor = driver.cursor()
    deltas: dict[int, list[int]] = {}
    try:
        # One lock order for every writer: fewer deadlocks on MySQL.
        for e in sorted(events, key=lambda e: e.delivery_id):
            final = e.status != QUEUED
            cursor.execute(
                sql,
                (
                    e.status,
                    e.reason,
                    e.attempts,
                    storage_timestamp(e.at),
                    storage_timestamp(e.retry_at),
                    None,
                    e.opened,
                    e.delivery_id,
                    e.claim,
                ),
            )
            if cursor.rowcount == 1 and final:
                tally = deltas.setdefault(e.campaign_id, [0, 0])
                tally[0 if e.status == DeliveryStatus.SENT.value else 1] += 1
    finally:
        cursor.close()
    for campaign_id, (sent, failed) in deltas.items():
        conn.execute(
            update(campaigns_table)
            .where(c.id == campaign_id)
            .values(sent=c.sent + sent, failed=c.failed + failed)
        )
    return {k: (v[0], v[1]) for k, v in deltas.items()}


def counts(engine: Engine | Connection, campaign_id: int) -> CampaignCounts | None:
    stmt = select(c.status, c.audience, c.sent, c.failed, c.skipped).where(c.id == campaign_id)
    if isinstance(engine, Connection):
        row = engine.execute(stmt).one_or_none()
    else:
        with engine.connect() as conn:
            row = conn.execute(stmt).one_or_none()
    if row is None:
        return None
    return CampaignCounts(campaign_id, row.status, row.audience, row.sent, row.failed, row.skipped)


def message_keys(engine: Engine, campaign_id: int) -> set[str]:
    """The idempotency keys frozen for this database's campaign: a shared vendor ledger
    holds other databases' campaigns under the same numeric id."""
    with engine.connect() as conn:
        return set(
            conn.execute(select(d.idempotency_key).where(d.campaign_id == campaign_id)).scalars()
        )


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


def finish_if_done(engine: Engine, campaign_id: int, owner: str | None = None) -> str | None:
    """After the last worker stops: complete a running campaign with nothing left, or settle
    a cancelled one (its unsent recipients become "cancelled", with the reason), and give up
    `owner`'s lease. Nothing changes while another process holds a live lease: it settles
    the campaign itself. Returns the campaign's status."""
    now = utcnow()
    with engine.begin() as conn:
        row = _lock_campaign(conn, campaign_id)
        if row is None:
            return None
        status = row.status
        if _live_holder(row, db_now(conn), owner) is not None:
            return str(status)
        if owner is not None:
            _release_lease(conn, campaign_id, owner)
        pending = conn.execute(
            select(func.count()).where(
                d.campaign_id == campaign_id, d.status.in_([QUEUED, SENDING, HELD])
            )
        ).scalar_one()
        if status == CampaignStatus.CANCELLED.value:
            # Never sent is its own outcome, not a suppression: the campaign's "cancelled"
            # figure is what is left of the audience once it is settled (history.py).
            conn.execute(
                update(deliveries_table)
                .where(d.campaign_id == campaign_id, d.status.in_([QUEUED, HELD]))
                .values(
                    status=DeliveryStatus.CANCELLED.value,
                    reason="campaign cancelled",
                    claim=None,
                    updated_at=now,
                )
            )
            conn.execute(
                update(campaigns_table)
                .where(c.id == campaign_id)
                .values(finished_at=func.coalesce(c.finished_at, now))
            )
        elif status == CampaignStatus.RUNNING.value and pending == 0:
            conn.execute(
                update(campaigns_table)
                .where(c.id == campaign_id, c.status == CampaignStatus.RUNNING.value)
                .values(status=CampaignStatus.COMPLETED.value, finished_at=now)
            )
            status = CampaignStatus.COMPLETED.value
    return status


def set_status(
    engine: Engine,
    campaign_id: int,
    new: CampaignStatus,
    allowed_from: Sequence[CampaignStatus],
    *,
    audit: tuple[Actor, str] | None = None,
) -> bool:
    """Change the status if it is one of `allowed_from`; with `audit` (who, action), the
    change is logged in the same transaction, and only if the actor's role as stored now
    (not at sign-in) still allows controlling campaigns: AccessDenied otherwise."""
    with engine.begin() as conn:
        if audit is not None:
            authorize(conn, audit[0], Permission.CONTROL_CAMPAIGNS)
        changed = (
            conn.execute(
                update(campaigns_table)
                .where(c.id == campaign_id, c.status.in_([s.value for s in allowed_from]))
                .values(status=new.value)
            ).rowcount
            == 1
        )
        if changed and audit is not None:
            record(conn, audit[0], audit[1], {"campaign_id": campaign_id})
        return changed


# -- the delivery lease ---------------------------------------------------------------------


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
    if held != 1:
        raise LeaseLost(f"campaign {campaign_id}: the delivery lease is no longer held")


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


RESERVE_BYTES = 2 << 20


def _reserve_path(engine: Engine) -> Path | None:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + "-reserve")


def reserve_space(engine: Engine) -> None:
    """SQLite: keep a little disk space beside the database while sending, so that when
    the disk fills up the pause and the outcomes already learned can still be recorded."""
    path = _reserve_path(engine)
    if path is None or path.exists():
        return
    try:
        with path.open("wb") as out:
            os.posix_fallocate(out.fileno(), 0, RESERVE_BYTES)
    except (OSError, AttributeError):
        path.unlink(missing_ok=True)  # no room even for that: nothing to give back later


def release_reserve(engine: Engine) -> None:
    """After a database error: give the reserved space back to the disk."""
    path = _reserve_path(engine)
    if path is not None:
        path.unlink(missing_ok=True)


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
