"""A/B/C variants: a stable split of the audience, and the idempotency key of each message."""

from __future__ import annotations

import hashlib

VARIANT_LABELS = ("A", "B", "C")
KEY_LENGTH = 64  # deliveries.idempotency_key


def variant_for(campaign_id: int, customer_id: int, variants: int) -> str:
    """The same customer always gets the same variant of a campaign, whatever the order of
    sending; the split is even because the hash is uniform."""
    if variants == 1:
        return VARIANT_LABELS[0]  # any hash modulo 1 is 0
    digest = hashlib.blake2b(f"{campaign_id}:{customer_id}".encode(), digest_size=8).digest()
    return VARIANT_LABELS[int.from_bytes(digest, "big") % variants]


def idempotency_key(campaign_uid: str, customer_id: int) -> str:
    """One key per campaign and customer: a resent message is recognised by the vendor.

    Made from the campaign's random uid, not its id (ids start at 1 in every database), so
    no two databases or installations make the same key; the uid is kept readable so a
    vendor record names its campaign. Called only when the audience is frozen at launch:
    afterwards the key is read from the delivery row, so a campaign launched under an older
    scheme keeps its keys. (Older keys, "c<id>-<hex>", never contain ":".)
    """
    key = f"{campaign_uid}:{customer_id}"
    if not campaign_uid or len(key) > KEY_LENGTH:
        raise ValueError(f"campaign uid {campaign_uid!r} cannot make a message key")
    return key


def in_test_share(campaign_id: int, customer_id: int, percent: int) -> bool:
    """Whether a customer is in an A/B test's share: stable, and independent of the variant
    split (another salt), so each variant's test group is a fair sample."""
    digest = hashlib.blake2b(f"ab:{campaign_id}:{customer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 100 < percent
