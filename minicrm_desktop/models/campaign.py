"""Campaigns, their message variants, and the per-recipient delivery log."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import MYSQL_TABLE_OPTIONS, Base, BigId, UTCDateTime
from .engine_only import DELIVERY_STATUS_INDEX
from .segment import RuleText


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # frozen into the audience, not yet handed to the vendor
    SENDING = "sending"  # claimed by a worker; outcome not yet recorded
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # suppressed at launch, with the reason
    # An A/B test's rest of the audience: frozen at launch, queued with the winning
    # variant once the test share's results decide it.
    HELD = "held"
    # Never sent because the campaign was cancelled.
    CANCELLED = "cancelled"


FINAL_STATUSES = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED,
                  DeliveryStatus.CANCELLED)


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # A random UUID given at creation: message keys derive from it, so no two databases or
    # installations can produce the same key (ids start at 1 in every database).
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(8))
    objective: Mapped[str] = mapped_column(String(500), default="")
    # The campaign's own copy of its audience rule: editing the segment later changes nothing.
    rule_json: Mapped[str] = mapped_column(RuleText)
    segment_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("segments.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(12), index=True)
    # The clock relative dates in the rule are resolved against at launch.
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(255))
    rate_per_second: Mapped[int | None] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3, server_default=text("3"))
    # Skip customers messaged by another campaign within this many hours (None: off).
    recent_hours: Mapped[int | None] = mapped_column(Integer)
    # Vendor simulator settings (JSON), so a resumed campaign uses the same vendor.
    vendor_json: Mapped[str] = mapped_column(Text, default="{}")
    audience: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    sent: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    failed: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The delivery lease: which process sends the campaign ("host pid start"), and until when
    # its heartbeat vouches for it. Another process takes over only once it has expired.
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the campaign stopped by itself (a database error paused it), shown to the user.
    status_reason: Mapped[str | None] = mapped_column(String(500))
    # Email essentials: the subject (a template like the body), who it is from, and the
    # footer every email ends with (it carries the unsubscribe link when the body does not).
    subject: Mapped[str | None] = mapped_column(String(500))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    sender_address: Mapped[str | None] = mapped_column(String(320))
    footer: Mapped[str | None] = mapped_column(Text)
    # Keys the per-recipient unsubscribe links (HMAC of the message key): never shown.
    link_secret: Mapped[str | None] = mapped_column(String(64))
    # Test sends made so far: each one's vendor key is "test:<uid>:<n>".
    # Only a server default: inserts written for older revisions (tests) leave it out.
    test_sends: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # A/B with a winner: the share of the audience (percent) that tests the variants, how
    # long after launch the winner is chosen, by what, and the choice with its reason.
    ab_test_share: Mapped[int | None] = mapped_column(Integer)
    ab_wait_seconds: Mapped[int | None] = mapped_column(Integer)
    ab_metric: Mapped[str | None] = mapped_column(String(12))
    ab_decide_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ab_winner: Mapped[str | None] = mapped_column(String(1))
    ab_reason: Mapped[str | None] = mapped_column(String(500))
    # A wizard draft: its state (JSON, with the step it was left on) until it is finished.
    wizard_json: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (MYSQL_TABLE_OPTIONS,)


class CampaignVariant(Base):
    __tablename__ = "campaign_variants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(1))
    template: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("campaign_id", "label", name="uq_campaign_variants_campaign_id_label"),
        MYSQL_TABLE_OPTIONS,
    )


class Delivery(Base):
    """One row per recipient, created when the audience is frozen at launch."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigId)
    # Where the message goes, as it was at launch (email or phone).
    address: Mapped[str | None] = mapped_column(String(320))
    variant: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # A transiently failed message waits in the queue until then (backoff).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Made at launch from the campaign's uid and the customer, then only ever read from here:
    # the vendor answers a repeat with the first outcome.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # Which worker claimed the row, so a claim can be found and, after a crash, released.
    claim: Mapped[str | None] = mapped_column(String(32))
    # The simulated vendor's engagement: whether a sent message was opened (None: unknown).
    opened: Mapped[bool | None] = mapped_column(Boolean)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint(
            "campaign_id", "customer_id", name="uq_deliveries_campaign_id_customer_id"
        ),
        # Paging the log in delivery order walks this one...
        Index("ix_deliveries_campaign_id_id", "campaign_id", "id"),
        # ...by status this one, and claims find due rows in it by id, each row's retry time
        # read from the index (migration 0021). Each index holding `status` is rewritten
        # at every claim and outcome: no other one has it, nor `updated_at`. (MySQL/MariaDB:
        # it holds `updated_at` and `variant` too: models/engine_only.py.)
        Index(
            DELIVERY_STATUS_INDEX,
            "campaign_id",
            "status",
            "id",
            "next_attempt_at",
        ),
        # No index on `claim`: claims and releases find their rows by id (claims.py).
        MYSQL_TABLE_OPTIONS,
    )


campaigns_table = cast(Table, Campaign.__table__)
variants_table = cast(Table, CampaignVariant.__table__)
deliveries_table = cast(Table, Delivery.__table__)
