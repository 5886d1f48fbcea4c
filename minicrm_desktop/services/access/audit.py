"""The audit log: who did what, when. Services append to it, in the transaction of the
change where they can; nothing here updates or deletes (the database refuses that too)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Connection, Engine, Select, insert, or_, select

from minicrm_desktop.services.core.csv_export import csv_writer

from ...models.audit import ACTION_LEN
from ...models.base import utcnow
from ...models.tables import audit_table
from .actor import Actor, Permission, require


class Action:
    """The names written to `audit_log.action` (dotted: subject.verb)."""

    SIGN_IN = "sign_in"
    SIGN_IN_REFUSED = "sign_in.refused"
    IMPORT_CUSTOMERS = "import.customers"
    IMPORT_ORDERS = "import.orders"
    SEED_DEMO = "demo_data.seed"
    CUSTOMER_EDIT = "customer.edit"
    SEGMENT_TAG = "segment.tag"
    SEGMENT_UNSUBSCRIBE = "segment.unsubscribe"
    SEGMENT_CREATE = "segment.create"
    SEGMENT_UPDATE = "segment.update"
    SEGMENT_DELETE = "segment.delete"
    CAMPAIGN_CREATE = "campaign.create"
    CAMPAIGN_SCHEDULE = "campaign.schedule"
    CAMPAIGN_LAUNCH = "campaign.launch"
    CAMPAIGN_PAUSE = "campaign.pause"
    CAMPAIGN_RESUME = "campaign.resume"
    CAMPAIGN_CANCEL = "campaign.cancel"
    CAMPAIGN_AB_WINNER = "campaign.ab_winner"
    CAMPAIGN_TEST_SEND = "campaign.test_send"
    CAMPAIGN_RESCHEDULE = "campaign.reschedule"
    CAMPAIGN_DRAFT_SAVE = "campaign.draft_save"
    CAMPAIGN_DRAFT_DISCARD = "campaign.draft_discard"
    USER_ADD = "user.add"
    USER_ROLE = "user.role"
    USER_DEACTIVATE = "user.deactivate"
    USER_ACTIVATE = "user.activate"
    USER_DB_ACCOUNT = "user.db_account"
    USER_DB_PASSWORD = "user.db_password"
    DOMAIN_ALLOW = "domain.allow"
    DOMAIN_REMOVE = "domain.remove"
    SETTING_CHANGE = "setting.change"

    @classmethod
    def all(cls) -> list[str]:
        return sorted(v for k, v in vars(cls).items() if k.isupper())


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    user_id: int | None
    user_email: str
    action: str
    detail: str  # JSON object
    db_account: str | None = None  # the database account that wrote it, set by the server


@dataclass(frozen=True)
class AuditFilter:
    """Every field narrows; None (or "") means any."""

    user: str | None = None  # an email, matched exactly (case-insensitively)
    action: str | None = None  # an action, or a prefix ending in "." ("campaign.")
    since: datetime | None = None  # inclusive, aware
    until: datetime | None = None  # exclusive, aware
    text: str | None = None  # anywhere in the detail, action or email


def record(
    conn: Connection, actor: Actor, action: str, detail: Mapping[str, Any] | None = None
) -> None:
    """Append one entry in the caller's transaction."""
    record_as(conn, actor.user_id, actor.email, action, detail)


def record_as(
    conn: Connection,
    user_id: int | None,
    email: str,
    action: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    if len(action) > ACTION_LEN:  # pragma: no cover - a programming error
        raise ValueError(f"audit action too long: {action!r}")
    conn.execute(
        insert(audit_table).values(
            at=utcnow(),
            user_id=user_id,
            user_email=email[:320],
            action=action,
            detail=json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True,
                              default=str),
        )
    )


def record_now(
    engine: Engine, actor: Actor, action: str, detail: Mapping[str, Any] | None = None
) -> None:
    """Append one entry in a transaction of its own (for work that spans many)."""
    with engine.begin() as conn:
        record(conn, actor, action, detail)


def audit_page(
    engine: Engine,
    where: AuditFilter,
    *,
    actor: Actor,
    before_id: int | None = None,
    limit: int = 200,
) -> list[AuditRow]:
    """Newest first, keyset-paged on the id: the page of entries older than `before_id`."""
    require(actor, Permission.VIEW_AUDIT)
    stmt = _filtered(where).order_by(audit_table.c.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(audit_table.c.id < before_id)
    with engine.connect() as conn:
        return [_row(r._mapping) for r in conn.execute(stmt)]


def iter_audit(engine: Engine, where: AuditFilter, *, actor: Actor) -> Iterator[AuditRow]:
    """Every matching entry, newest first, read in pages (memory stays flat)."""
    before: int | None = None
    while True:
        page = audit_page(engine, where, actor=actor, before_id=before, limit=1000)
        yield from page
        if len(page) < 1000:
            return
        before = page[-1].id


AUDIT_CSV_COLUMNS = ("id", "at", "user_id", "user_email", "action", "detail", "db_account")


def write_audit_csv(engine: Engine, where: AuditFilter, out: IO[str], *, actor: Actor) -> int:
    """Write the matching entries as CSV (times in ISO 8601 UTC); returns how many."""
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(AUDIT_CSV_COLUMNS)
    written = 0
    for row in iter_audit(engine, where, actor=actor):
        writer.writerow(
            [row.id, row.at.isoformat(), "" if row.user_id is None else row.user_id,
             row.user_email, row.action, row.detail, row.db_account or ""]
        )
        written += 1
    return written


def _filtered(where: AuditFilter) -> Select[Any]:
    a = audit_table.c
    stmt = select(audit_table)
    if where.user:
        stmt = stmt.where(a.user_email == where.user.strip().lower())
    if where.action:
        if where.action.endswith("."):
            stmt = stmt.where(a.action.startswith(where.action, autoescape=True))
        else:
            stmt = stmt.where(a.action == where.action)
    if where.since is not None:
        stmt = stmt.where(a.at >= where.since)
    if where.until is not None:
        stmt = stmt.where(a.at < where.until)
    if where.text and where.text.strip():
        needle = where.text.strip()
        stmt = stmt.where(
            or_(
                a.detail.contains(needle, autoescape=True),
                a.action.contains(needle, autoescape=True),
                a.user_email.contains(needle.lower(), autoescape=True),
            )
        )
    return stmt


def _row(m: Any) -> AuditRow:
    return AuditRow(
        id=int(m["id"]),
        at=m["at"],
        user_id=None if m["user_id"] is None else int(m["user_id"]),
        user_email=m["user_email"],
        action=m["action"],
        detail=m["detail"],
        db_account=m["db_account"],
    )
