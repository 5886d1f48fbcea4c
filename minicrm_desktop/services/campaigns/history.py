"""Campaign history: the list, one campaign's statistics, and its per-recipient log."""

from __future__ import annotations

from dataclasses import asdict, dataclass
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

    @property
    def success_rate(self) -> float | None:
        attempted = self.sent + self.failed
        return None if attempted == 0 else self.sent / attempted

    @property
    def progress(self) -> float:
        return (
            1.0 if self.audience == 0 else (self.sent + self.failed + self.skipped) / self.audience
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
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
)


def list_campaigns(
    engine: Engine, *, before_id: int | None = None, limit: int | None = None
) -> list[CampaignRow]:
    """Newest first; page with `before_id` (keyset on the id) and `limit`."""
    stmt = select(*_ROW).order_by(c.id.desc())
    if before_id is not None:
        stmt = stmt.where(c.id < before_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        return [CampaignRow(*row) for row in conn.execute(stmt)]


def campaign_details(engine: Engine, campaign_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(
            select(*_ROW, c.objective, c.rule_json).where(c.id == campaign_id)
        ).first()
        if row is None:
            raise CampaignError(f"there is no campaign {campaign_id}")
        summary = CampaignRow(*row[: len(_ROW)]).to_dict()
        summary["objective"] = row.objective
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
            select(d.reason, func.count())
            .where(d.campaign_id == campaign_id, d.status.in_(["failed", "skipped"]))
            .group_by(d.reason)
            .order_by(func.count().desc())
        ).all()
    stats: dict[str, dict[str, int]] = {label: {} for label, _ in variants}
    for variant, status, n in by_variant:
        stats.setdefault(variant, {})[status] = int(n)
    summary["variants"] = [
        {
            "label": label,
            "template": template,
            **{
                s: stats[label].get(s, 0)
                for s in ("queued", "sending", "sent", "failed", "skipped")
            },
        }
        for label, template in variants
    ]
    summary["reasons"] = {reason or "": int(n) for reason, n in reasons}
    return summary


def write_log_csv(
    engine: Engine, campaign_id: int, out: TextIO, status: DeliveryStatus | None = None
) -> int:
    """The per-recipient log, streamed in pages; returns the number of rows written."""
    cust = customers_table.c
    writer = csv_writer(out)
    writer.writerow(["email", "variant", "status", "reason", "attempts", "queued_at", "updated_at"])
    after, written = 0, 0
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
            return written
        for row in rows:
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
        written += len(rows)
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
