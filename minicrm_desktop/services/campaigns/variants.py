"""A/B/C variants: a stable split of the audience, and the idempotency key of each message."""

from __future__ import annotations

import hashlib

VARIANT_LABELS = ("A", "B", "C")


def variant_for(campaign_id: int, customer_id: int, variants: int) -> str:
    """The same customer always gets the same variant of a campaign, whatever the order of
    sending; the split is even because the hash is uniform."""
    digest = hashlib.blake2b(f"{campaign_id}:{customer_id}".encode(), digest_size=8).digest()
    return VARIANT_LABELS[int.from_bytes(digest, "big") % variants]


def idempotency_key(campaign_id: int, customer_id: int) -> str:
    """One key per campaign and customer: a resent message is recognised by the vendor."""
    digest = hashlib.sha256(f"minicrm:{campaign_id}:{customer_id}".encode()).hexdigest()
    return f"c{campaign_id}-{digest[:40]}"
