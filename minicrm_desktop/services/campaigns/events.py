"""Delivery events: what workers publish on the bus and the writer applies in batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DeliveryEvent:
    campaign_id: int
    delivery_id: int
    customer_id: int
    variant: str
    claim: str
    status: str  # sent, failed, or queued (a transient failure to retry at `retry_at`)
    reason: str | None
    attempts: int
    at: datetime
    retry_at: datetime | None = None
    opened: bool | None = None  # the vendor's engagement for a sent message


@dataclass(frozen=True)
class CampaignCounts:
    campaign_id: int
    status: str
    audience: int
    sent: int
    failed: int
    skipped: int

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped

    @property
    def remaining(self) -> int:
        return self.audience - self.done
