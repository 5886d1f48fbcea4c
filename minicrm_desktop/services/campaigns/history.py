"""Campaign history: the list, one campaign's statistics, and its per-recipient log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Engine, func, select

from minicrm_desktop.services.core.csv_export import csv_writer

from ...models.campaign import (
    CampaignStatus,
    DeliveryStatus,
    campaigns_table,
    deliveries_table,
    variants_table,
)
from ...models.tables import customers_table
from ..access.actor import Actor, Permission
from ..access.audit import Action
from ..access.users import authorize
from .launch import CampaignError
from .store import release_abandoned, set_status
from .wizard import PageId

c = campaigns_table.c
d = deliveries_table.c


@dataclass(frozen=True)
class CampaignRow:
    id: int
    name: str
    channel: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    audience: int
    sent: int
    failed: int
    skipped: int
    scheduled_at: datetime | None = None
    #: Saved unfinished from the wizard (reopened there, not on a campaign page).
    wizard_draft: bool = False

    @property
    def cancelled(self) -> int:
        """Recipients never sent because the campaign was cancelled: what is left of the
        audience (the same counters as every other figure, so all places agree)."""
        if self.status != CampaignStatus.CANCELLED.value:
            return 0
        return max(0, self.audience - self.sent - self.failed - self.skipped)

    @property
    def success_rate(self) -> float | None:
        attempted = self.sent + self.failed
        return None if attempted == 0 else self.sent / attempted

    @property
    def progress(self) -> float:
        return (
            1.0
            if self.audience == 0
            else (self.sent + self.failed + self.skipped + self.cancelled) / self.audience
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cancelled"] = self.cancelled
        data["success_rate"] = self.success_rate
        return data


_ROW = (
    c.id,
    c.name,
    c.channel,
    c.status,
    c.created_at,
    c.started_at,
    c.finished_at,
    c.audience,
    c.sent,
    c.failed,
    c.skipped,
    c.scheduled_at,
)


def list_campaigns(
    engine: Engine, *, before_id: int | None = None, limit: int | None = None
) -> list[CampaignRow]:
    """Newest first; page with `before_id` (keyset on the id) and `limit`."""
    stmt = select(*_ROW, c.wizard_json.is_not(None)).order_by(c.id.desc())
    if before_id is not None:
        stmt = stmt.where(c.id < before_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        return [replace(CampaignRow(*row[:-1]),
                        wizard_draft=bool(row[-1]) and row.status == "draft")
                for row in conn.execute(stmt)]


_VARIANT_STATUSES = {s.value: s.name.lower() for s in DeliveryStatus}


def campaign_details(engine: Engine, campaign_id: int) -> dict[str, Any]:
    """The campaign's counters, its variants' and its reasons, read in one transaction: a
    consistent snapshot that every figure on its page is drawn from."""
    with engine.connect() as conn:
        row = conn.execute(
            select(*_ROW, c.objective, c.rule_json, *_EXTRA).where(c.id == campaign_id)
        ).first()
        if row is None:
            raise CampaignError(f"there is no campaign {campaign_id}")
        summary = CampaignRow(*row[: len(_ROW)]).to_dict()
        summary["objective"] = row.objective
        summary.update(_email_and_ab(row))
        variants = conn.execute(
            select(variants_table.c.label, variants_table.c.template)
            .where(variants_table.c.campaign_id == campaign_id)
            .order_by(variants_table.c.label)
        ).all()
        by_variant = conn.execute(
            select(d.variant, d.status, func.count())
            .where(d.campaign_id == campaign_id)
            .group_by(d.variant, d.status)
        ).all()
        reasons = conn.execute(
            select(d.status, d.reason, func.count())
            .where(d.campaign_id == campaign_id, d.status.in_(["failed", "skipped"]))
            .group_by(d.status, d.reason)
        ).all()
    stats: dict[str, dict[str, int]] = {label: {} for label, _ in variants}
    for variant, status, n in by_variant:
        key = _VARIANT_STATUSES.get(status, status)
        stats.setdefault(variant, {})[key] = int(n)
    summary["variants"] = [
        {
            "label": label,
            "template": template,
            **{
                s: stats[label].get(s, 0)
                for s in ("queued", "sending", "sent", "failed", "skipped", "cancelled")
            },
        }
        for label, template in variants
    ]
    if summary["status"] == CampaignStatus.CANCELLED.value:
        # Until the cancel is settled (finish_if_done) the unsent rows are still queued or
        # in flight: counted as cancelled already, like the campaign's own figure.
        for variant in summary["variants"]:
            variant["cancelled"] += variant.pop("queued") + variant.pop("sending")
            variant["queued"] = variant["sending"] = 0
    by_status: dict[str, list[tuple[str, int]]] = {"failed": [], "skipped": []}
    for status, reason, n in reasons:
        by_status[status].append((reason or "", int(n)))
    for items in by_status.values():
        items.sort(key=lambda item: (-item[1], item[0]))
    # Failures (the vendor refused) and suppressions (never tried) are told apart.
    summary["failure_reasons"] = by_status["failed"]
    summary["skip_reasons"] = by_status["skipped"]
    totals: dict[str, int] = {}
    for reason, n in by_status["failed"] + by_status["skipped"]:
        totals[reason] = totals.get(reason, 0) + n
    summary["reasons"] = dict(sorted(totals.items(), key=lambda item: -item[1]))
    if summary.get("ab_test"):
        summary["ab_test"]["held"] = stats.get("", {}).get("held", 0)
    return summary


LOG_COLUMNS = ("email", "variant", "status", "reason", "attempts", "queued_at", "updated_at")

# What `show` adds for email campaigns and A/B tests with a winner.
_EXTRA = (
    c.subject,
    c.sender_name,
    c.sender_address,
    c.ab_test_share,
    c.ab_wait_seconds,
    c.ab_metric,
    c.ab_decide_at,
    c.ab_winner,
    c.ab_reason,
    c.test_sends,
)


def _email_and_ab(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if row.subject is not None:
        out["subject"] = row.subject
        out["sender"] = f"{row.sender_name} <{row.sender_address}>"
        out["test_sends"] = row.test_sends
    if row.ab_test_share is not None:
        out["ab_test"] = {
            "test_share_percent": row.ab_test_share,
            "wait_seconds": row.ab_wait_seconds,
            "metric": row.ab_metric,
            "decide_at": row.ab_decide_at,
            "winner": row.ab_winner,
            "reason": row.ab_reason,
        }
    return out


@dataclass(frozen=True)
class DraftRow:
    id: int
    name: str
    channel: str
    step: str
    created_by: str | None
    updated_at: datetime | None


def list_drafts(engine: Engine) -> list[DraftRow]:
    """Wizard drafts not yet finished, most recently saved first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.id, c.name, c.channel, c.wizard_json, c.created_by, c.updated_at)
            .where(c.status == CampaignStatus.DRAFT.value, c.wizard_json.is_not(None))
            .order_by(c.updated_at.desc(), c.id.desc())
        ).all()
    drafts = []
    for row in rows:
        try:
            step = PageId(int(json.loads(row.wizard_json).get("step", 0))).name.lower()
        except (ValueError, AttributeError):
            step = PageId.BASICS.name.lower()
        drafts.append(DraftRow(row.id, row.name, row.channel, step, row.created_by,
                               row.updated_at))
    return drafts




def write_log_csv(
    engine: Engine, campaign_id: int, out: TextIO, status: DeliveryStatus | None = None
) -> int:
    """The per-recipient log, streamed in pages; returns the number of rows written."""
    writer = csv_writer(out)
    writer.writerow(list(LOG_COLUMNS))
    written = 0
    for row in iter_log(engine, campaign_id, status):
        writer.writerow(
            [
                row.email.lower(),
                row.variant,
                row.status,
                row.reason or "",
                row.attempts,
                row.queued_at.isoformat(),
                row.updated_at.isoformat(),
            ]
        )
        written += 1
    return written


def iter_log(
    engine: Engine, campaign_id: int, status: DeliveryStatus | None = None
) -> Iterator[Any]:
    """The per-recipient log's rows in delivery order, read 5,000 at a time."""
    cust = customers_table.c
    after = 0
    while True:
        stmt = (
            select(
                d.id,
                cust.email,
                d.variant,
                d.status,
                d.reason,
                d.attempts,
                d.queued_at,
                d.updated_at,
            )
            .join_from(deliveries_table, customers_table, cust.id == d.customer_id)
            .where(d.campaign_id == campaign_id, d.id > after)
            .order_by(d.id)
            .limit(5000)
        )
        if status is not None:
            stmt = stmt.where(d.status == status.value)
        with engine.connect() as conn:
            rows = conn.execute(stmt).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def prepare_resume(engine: Engine, campaign_id: int, *, actor: Actor) -> None:
    """Make an interrupted campaign sendable again: a paused one runs again, and claims
    left by a killed process go back to the queue."""
    authorize(engine, actor, Permission.CONTROL_CAMPAIGNS)
    with engine.connect() as conn:
        status = conn.execute(select(c.status).where(c.id == campaign_id)).scalar()
    if status is None:
        raise CampaignError(f"there is no campaign {campaign_id}")
    if status == CampaignStatus.PAUSED.value:
        set_status(engine, campaign_id, CampaignStatus.RUNNING, [CampaignStatus.PAUSED],
                   audit=(actor, Action.CAMPAIGN_RESUME))
    elif status != CampaignStatus.RUNNING.value:
        raise CampaignError(f"campaign {campaign_id} is {status}: nothing to resume")
    release_abandoned(engine, campaign_id)
