"""Creating a campaign and launching it: the audience is frozen in one transaction.

At launch every recipient gets one delivery row — `queued`, or `skipped` with the reason —
so the audience size is a recorded fact, not a preview, and the delivery engine only ever
works through rows that exist.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from minicrm_desktop.services.bulkload.bulk import storage_timestamp
from minicrm_desktop.services.core.heap import freeze_long_lived

from ...errors import MiniCRMError
from ...models.base import utcnow
from ...models.campaign import (
    CampaignStatus,
    Channel,
    DeliveryStatus,
    campaigns_table,
    deliveries_table,
    variants_table,
)
from ...models.rules import RuleGroup, dump_rule, load_rule
from ..access.actor import Actor, Permission
from ..access.audit import Action, record
from ..access.users import authorize
from ..segments import audience_where
from .addresses import SeenAddresses, normal_address
from .email import DEFAULT_FOOTER, DEFAULT_SENDER_ADDRESS, DEFAULT_SENDER_NAME, email_problem
from .frozen_rows import FrozenRow, audience_chunk, write_frozen
from .json_agg import uncut_json
from .store import db_now
from .templates import parse_template
from .variants import VARIANT_LABELS, idempotency_key, in_test_share, variant_for
from .vendor import VendorConfig

MAX_VARIANTS = len(VARIANT_LABELS)
_INSERT_CHUNK = 5000
DUPLICATE_ADDRESS = "duplicate address"
AB_METRICS = ("delivered", "engagement")
MAX_AB_WAIT_SECONDS = 30 * 24 * 3600


class CampaignError(MiniCRMError):
    """A campaign that cannot be created or launched as asked."""

    exit_code = 2


@dataclass(frozen=True)
class CampaignDraft:
    name: str
    channel: Channel
    rule: RuleGroup
    variants: list[str]
    objective: str = ""
    segment_id: int | None = None
    as_of: datetime | None = None
    scheduled_at: datetime | None = None
    rate_per_second: int | None = None
    max_attempts: int = 3
    recent_hours: int | None = None
    vendor: VendorConfig = field(default_factory=VendorConfig)
    created_by: str | None = None
    # Email only. An empty subject is the campaign's name; an empty sender, Settings'.
    subject: str = ""
    sender_name: str = ""
    sender_address: str = ""
    footer: str = DEFAULT_FOOTER
    # A/B with a winner: this percent of the audience tests the variants; after the wait
    # the rest gets the variant that did best by `ab_metric`. None: an even split.
    ab_test_share: int | None = None
    ab_wait_seconds: int = 0
    ab_metric: str = "delivered"

    def check(self) -> None:
        """Refuse a draft that could not be sent, with the reason."""
        if not self.name.strip():
            raise CampaignError("the campaign needs a name")
        if not 1 <= len(self.variants) <= MAX_VARIANTS:
            raise CampaignError(f"a campaign has 1 to {MAX_VARIANTS} message variants")
        for label, text in zip(VARIANT_LABELS, self.variants, strict=False):
            try:
                parse_template(text)
            except MiniCRMError as exc:
                raise CampaignError(f"variant {label}: {exc}") from None
        if self.rate_per_second is not None and self.rate_per_second <= 0:
            raise CampaignError("the rate limit must be a positive number of messages a second")
        if self.max_attempts < 1:
            raise CampaignError("at least one attempt per message is needed")
        if self.recent_hours is not None and self.recent_hours <= 0:
            raise CampaignError("the recent-message window must be a positive number of hours")
        if self.channel == Channel.EMAIL:
            problem = email_problem(self.variants, self.subject, self.footer,
                                    self.sender_name, self.sender_address)
            if problem:
                raise CampaignError(f"this email campaign cannot be sent: {problem}")
        if self.ab_test_share is not None:
            if len(self.variants) < 2:
                raise CampaignError("an A/B test with a winner needs at least two variants")
            if not 1 <= self.ab_test_share <= 99:
                raise CampaignError("the A/B test share must be 1 to 99 percent of the "
                                    f"audience, got {self.ab_test_share}")
            if not 0 <= self.ab_wait_seconds <= MAX_AB_WAIT_SECONDS:
                raise CampaignError("the A/B wait must be between 0 and 30 days")
            if self.ab_metric not in AB_METRICS:
                raise CampaignError(f"the A/B winner is chosen by {' or '.join(AB_METRICS)}, "
                                    f"not {self.ab_metric!r}")

    def email_columns(self) -> dict[str, Any]:
        """What an email campaign stores besides its body (nothing for SMS)."""
        if self.channel != Channel.EMAIL:
            return {}
        return {
            "subject": self.subject.strip() or self.name.strip(),
            "sender_name": self.sender_name.strip() or DEFAULT_SENDER_NAME,
            "sender_address": self.sender_address.strip() or DEFAULT_SENDER_ADDRESS,
            "footer": self.footer,
        }

    def ab_columns(self) -> dict[str, Any]:
        if self.ab_test_share is None:
            return {}
        return {"ab_test_share": self.ab_test_share, "ab_wait_seconds": self.ab_wait_seconds,
                "ab_metric": self.ab_metric}


@dataclass(frozen=True)
class LaunchSummary:
    campaign_id: int
    audience: int
    queued: int
    skipped: int
    skipped_reasons: dict[str, int]


def create_campaign(
    engine: Engine, draft: CampaignDraft, *, actor: Actor, replacing_draft: int | None = None
) -> int:
    """Store a draft (or scheduled) campaign with its own copy of the rule; return its id.
    `replacing_draft`: the wizard draft it was finished from, removed in the same
    transaction."""
    draft.check()
    rule_json = dump_rule(draft.rule)
    load_rule(rule_json)  # a tree built in code may hold values the launch would refuse
    now = utcnow()
    status = CampaignStatus.SCHEDULED if draft.scheduled_at else CampaignStatus.DRAFT
    with engine.begin() as conn:
        authorize(conn, actor, Permission.CREATE_CAMPAIGNS)
        inserted = conn.execute(
            insert(campaigns_table).values(
                uid=str(uuid.uuid4()),
                name=draft.name.strip(),
                channel=draft.channel.value,
                objective=draft.objective.strip(),
                rule_json=rule_json,
                segment_id=draft.segment_id,
                status=status.value,
                as_of=draft.as_of,
                scheduled_at=draft.scheduled_at,
                created_at=now,
                created_by=draft.created_by or actor.account_email,
                rate_per_second=draft.rate_per_second,
                max_attempts=draft.max_attempts,
                recent_hours=draft.recent_hours,
                vendor_json=json.dumps(draft.vendor.to_dict()),
                link_secret=secrets.token_hex(32),
                updated_at=now,
                **draft.email_columns(),
                **draft.ab_columns(),
            )
        ).inserted_primary_key
        assert inserted is not None
        campaign_id = int(inserted[0])
        conn.execute(
            insert(variants_table),
            [
                {"campaign_id": campaign_id, "label": label, "template": text}
                for label, text in zip(VARIANT_LABELS, draft.variants, strict=False)
            ],
        )
        detail: dict[str, Any] = {"campaign_id": campaign_id, "name": draft.name.strip(),
                                  "channel": draft.channel.value}
        if replacing_draft is not None:
            gone = conn.execute(
                delete(campaigns_table).where(
                    campaigns_table.c.id == replacing_draft,
                    campaigns_table.c.wizard_json.is_not(None),
                )
            ).rowcount
            if gone != 1:
                raise CampaignError(f"there is no unfinished draft {replacing_draft}")
            detail["from_draft"] = replacing_draft
        if draft.scheduled_at:
            detail["scheduled_at"] = draft.scheduled_at.isoformat()
        if draft.ab_test_share is not None:
            detail["ab"] = draft.ab_columns()
        record(conn, actor,
               Action.CAMPAIGN_SCHEDULE if draft.scheduled_at else Action.CAMPAIGN_CREATE,
               detail)
    return int(campaign_id)


def launch_campaign(engine: Engine, campaign_id: int, *, actor: Actor) -> LaunchSummary:
    """Freeze the audience and mark the campaign running, all in one transaction.

    Only a draft or scheduled campaign launches; the status change is the claim, so two
    launchers of one campaign cannot both freeze it.
    """
    c = campaigns_table.c
    now = utcnow()
    with engine.begin() as conn:
        authorize(conn, actor, Permission.LAUNCH_CAMPAIGNS)
        claimed = conn.execute(
            update(campaigns_table)
            .where(
                c.id == campaign_id,
                c.status.in_([CampaignStatus.DRAFT.value, CampaignStatus.SCHEDULED.value]),
                c.wizard_json.is_(None),  # a wizard draft is finished in the wizard first
            )
            .values(status=CampaignStatus.RUNNING.value, started_at=now)
        ).rowcount
        if claimed != 1:
            status = conn.execute(select(c.status).where(c.id == campaign_id)).scalar()
            if status is None:
                raise CampaignError(f"there is no campaign {campaign_id}")
            if status == CampaignStatus.DRAFT.value:
                raise CampaignError(f"campaign {campaign_id} is an unfinished draft: finish "
                                    "it in the wizard before launching it")
            raise CampaignError(f"campaign {campaign_id} is {status}, not ready to launch")
        row = conn.execute(
            select(c.rule_json, c.channel, c.as_of, c.recent_hours, c.ab_test_share,
                   c.ab_wait_seconds).where(c.id == campaign_id)
        ).one()
        as_of = row.as_of or now
        labels = conn.execute(
            select(variants_table.c.label).where(variants_table.c.campaign_id == campaign_id)
        ).scalars()
        summary = _freeze(
            conn,
            campaign_id,
            load_rule(row.rule_json),
            row.channel,
            as_of,
            row.recent_hours,
            len(list(labels)),
            now,
            row.ab_test_share,
        )
        # The A/B decision's time lives in the database, on the lease's clock (the server's
        # on MariaDB): a restarted run on any host keeps to it.
        decide_at = (None if row.ab_test_share is None
                     else db_now(conn) + timedelta(seconds=row.ab_wait_seconds or 0))
        conn.execute(
            update(campaigns_table)
            .where(c.id == campaign_id)
            .values(as_of=as_of, audience=summary.audience, skipped=summary.skipped,
                    ab_decide_at=decide_at, updated_at=now)
        )
        record(conn, actor, Action.CAMPAIGN_LAUNCH,
               {"campaign_id": campaign_id, "audience": summary.audience,
                "queued": summary.queued, "skipped": summary.skipped})
    return summary


def _freeze(
    conn: Connection,
    campaign_id: int,
    rule: RuleGroup,
    channel: str,
    as_of: datetime,
    recent_hours: int | None,
    variant_count: int,
    now: datetime,
    test_share: int | None = None,
) -> LaunchSummary:
    recent: set[int] = set()
    if recent_hours:
        d = deliveries_table.c
        recent = set(
            conn.execute(
                select(d.customer_id)
                .where(
                    d.status == DeliveryStatus.SENT.value,
                    d.updated_at >= now - timedelta(hours=recent_hours),
                    d.campaign_id != campaign_id,
                )
                .distinct()
            ).scalars()
        )
    uid = conn.execute(
        select(campaigns_table.c.uid).where(campaigns_table.c.id == campaign_id)
    ).scalar_one()
    where = audience_where(conn, rule, as_of)
    stamp = storage_timestamp(now)
    seen = SeenAddresses()
    reasons: dict[str, int] = {}
    audience = 0
    after = 0
    queued, skip, held = (DeliveryStatus.QUEUED.value, DeliveryStatus.SKIPPED.value,
                          DeliveryStatus.HELD.value)
    email = channel == Channel.EMAIL
    # A full collection here would walk the app's own objects too, holding the GIL (and
    # the GUI thread) for tens of ms: they are moved out of its sight first (heap.py).
    # (Not bulk_allocations: with young passes every 10,000 objects, the middle
    # generation held up to 100,000 rows and each of its passes stalled the GUI 20-35 ms.)
    freeze_long_lived()
    with uncut_json(conn):
        while True:
            # Keyset chunks inside the one transaction: memory stays flat at any audience
            # size. In id order, so of customers sharing an address the lowest id gets the
            # message.
            chunk = audience_chunk(conn, where, after, _INSERT_CHUNK, email=email)
            if not chunk:
                break
            after = chunk[-1][0]
            rows: list[FrozenRow] = []
            for customer_id, address, subscribed in chunk:
                reason = _suppression(
                    subscribed, address, customer_id in recent, recent_hours, channel, seen
                )
                if reason:
                    reasons[reason] = reasons.get(reason, 0) + 1
                    status = skip
                    variant = variant_for(campaign_id, customer_id, variant_count)
                elif test_share is not None and not in_test_share(
                    campaign_id, customer_id, test_share
                ):
                    # The rest of an A/B audience: its variant is the winner, chosen later.
                    status, variant = held, ""
                else:
                    status = queued
                    variant = variant_for(campaign_id, customer_id, variant_count)
                # The only place a key is made: later it is read from this row.
                rows.append((customer_id, address, variant, status, reason,
                             idempotency_key(uid, customer_id)))
            write_frozen(conn, campaign_id, stamp, rows)
            audience += len(chunk)
    skipped = sum(reasons.values())
    return LaunchSummary(campaign_id, audience, audience - skipped, skipped, reasons)


def _suppression(
    subscribed: bool,
    address: str | None,
    recent: bool,
    hours: int | None,
    channel: str,
    seen: SeenAddresses,
) -> str | None:
    """Why this customer gets no message, or None; a customer who gets one claims the
    address (only customers who would be messaged compete for it)."""
    if not subscribed:
        return "unsubscribed"
    normal = normal_address(channel, address)
    if not normal:
        return "no phone number" if channel == Channel.SMS else "no email address"
    if recent:
        return f"messaged in the last {hours} hours"
    if not seen.add(normal):
        return DUPLICATE_ADDRESS
    return None
