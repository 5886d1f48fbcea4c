"""The delivery log's state changes, each one atomic on SQLite and MySQL/MariaDB: the
public face of the engine's storage.

Workers claim queued rows (queued -> sending, stamped with their claim token; claims.py)
and the writer records outcomes (sending -> sent/failed, or back to queued for a retry)
only where the row still carries that claim (outcomes.py). One process at a time delivers
a campaign: the one holding its lease (lease.py). This module holds the rest: the plan a
run follows, the counters, settling a finished or cancelled campaign, status changes, and
the disk reserve.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, and_, func, literal, select, update

from ...models.base import UTCDateTime, utcnow
from ...models.campaign import (
    CampaignStatus,
    DeliveryStatus,
    campaigns_table,
    deliveries_table,
    variants_table,
)
from ..access.actor import Actor, Permission
from ..access.audit import record
from ..access.users import authorize
from .claims import (
    ClaimedMessage,
    ClaimedRow,
    claim,
    claim_rows,
    messages,
    queued_count,
    release,
    release_abandoned,
    seconds_until_due,
    take,
)
from .email import sender_line
from .events import CampaignCounts, DeliveryEvent
from .lease import (
    HELD,
    QUEUED,
    REASON_LEN,
    RUNNING,
    SENDING,
    DeliveryState,
    LeaseGrant,
    LeaseLost,
    _lease_held,
    _live_holder,
    _lock_campaign,
    _release_lease,
    acquire_lease,
    db_now,
    delivery_state,
    pause_for_fault,
    release_lease,
    renew_lease,
)
from .outcomes import add_counts, apply_events
from .vendor import VendorConfig

__all__ = [
    "HELD", "QUEUED", "REASON_LEN", "RUNNING", "SENDING", "CampaignPlan", "ClaimedMessage",
    "ClaimedRow", "DeliveryState", "LeaseGrant", "LeaseLost", "acquire_lease", "apply_events",
    "claim", "claim_rows", "messages", "record_and_take",
    "counts", "db_now", "delivery_state", "finish_if_done", "load_plan", "message_keys",
    "pause_for_fault", "queued_count", "record_and_claim", "release", "release_abandoned",
    "release_lease", "release_reserve", "renew_lease", "reserve_space", "seconds_until_due",
    "set_status",
]

d = deliveries_table.c
c = campaigns_table.c


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


def record_and_claim(
    engine: Engine,
    events: Sequence[DeliveryEvent],
    report: Sequence[int],
    campaign_id: int,
    token: str,
    limit: int,
    owner: str,
) -> tuple[list[CampaignCounts | None], list[ClaimedMessage] | None]:
    """record_and_take, the claimed rows made messages."""
    snapshots, rows = record_and_take(engine, events, report, campaign_id, token, limit, owner)
    return snapshots, None if rows is None else messages(rows)


def record_and_take(
    engine: Engine,
    events: Sequence[DeliveryEvent],
    report: Sequence[int],
    campaign_id: int,
    token: str,
    limit: int,
    owner: str,
) -> tuple[list[CampaignCounts | None], list[ClaimedRow] | None]:
    """Record outcomes and claim the campaign's next chunk in one transaction: one commit
    (a sync to disk on MySQL) instead of two. Returns the counts of the `report` campaigns
    and the claimed rows (claims.ClaimedRow), or None for them when the lease is no longer
    held: the outcomes are recorded all the same (each row only under its own claim, as
    alone).

    The lease's row is locked first, as a claim alone does, so writers lock in one order;
    outcomes go in before the claim reads the queue, so a retry due at once is claimable."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            held, snapshots = _record_sqlite(conn, events, report, campaign_id, owner)
        else:
            held = _lease_held(conn, campaign_id, owner)
            apply_events(conn, events)
            snapshots = [counts(conn, cid) for cid in report]
        rows = take(conn, campaign_id, token, limit, leased=True) if held else None
    return snapshots, rows


def _record_sqlite(
    conn: Connection,
    events: Sequence[DeliveryEvent],
    report: Sequence[int],
    campaign_id: int,
    owner: str,
) -> tuple[bool, list[CampaignCounts | None]]:
    """record_and_claim's first half on SQLite: the outcomes, then one statement that adds
    the campaign's counters, reads them back and says whether the lease is held, in place
    of three (each statement lets go of the GIL and, with the workers busy, waits to get it
    back). SQLite has one writer: the outcomes' write lock already keeps the lease as it is
    to the end of the transaction, so the check may come after them."""
    deltas = apply_events(conn, events, counters=False)
    sent, failed = deltas.pop(campaign_id, (0, 0))
    for other, (other_sent, other_failed) in deltas.items():
        add_counts(conn, other, other_sent, other_failed)
    held = and_(c.status == RUNNING, c.lease_owner == owner,
                c.lease_expires_at > literal(utcnow(), UTCDateTime()))
    row = conn.execute(
        update(campaigns_table)
        .where(c.id == campaign_id)
        .values(sent=c.sent + sent, failed=c.failed + failed)
        .returning(c.status, c.audience, c.sent, c.failed, c.skipped, held.label("held"))
    ).one_or_none()
    if row is None:
        return False, [None if cid == campaign_id else counts(conn, cid) for cid in report]
    mine = CampaignCounts(campaign_id, row.status, row.audience, row.sent, row.failed,
                          row.skipped)
    return bool(row.held), [mine if cid == campaign_id else counts(conn, cid)
                            for cid in report]


def message_keys(engine: Engine, campaign_id: int) -> set[str]:
    """The idempotency keys frozen for this database's campaign: a shared vendor ledger
    holds other databases' campaigns under the same numeric id."""
    with engine.connect() as conn:
        return set(
            conn.execute(select(d.idempotency_key).where(d.campaign_id == campaign_id)).scalars()
        )


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

