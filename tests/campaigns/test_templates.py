"""Personalisation tokens, fallbacks and the A/B/C split."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest

from minicrm_desktop.services.campaigns.templates import TemplateError, parse_template
from minicrm_desktop.services.campaigns.variants import idempotency_key, variant_for

ASHA = {
    "name": "Asha Rao",
    "email": "asha@example.com",
    "city": "Pune",
    "total_spend_minor": 1234550,
    "last_order_at": datetime(2026, 3, 9, 18, 0, tzinfo=UTC),
}
NOBODY: dict[str, object] = {
    "name": None,
    "email": "x@example.com",
    "city": " ",
    "total_spend_minor": 0,
    "last_order_at": None,
}


def test_tokens_render() -> None:
    t = parse_template(
        "Hi {first_name|there}! {name} of {city}: {total_spend} since {last_order_date}."
    )
    assert t.render(ASHA) == "Hi Asha! Asha Rao of Pune: ₹12,345.50 since 09 Mar 2026."
    assert t.tokens == {"first_name", "name", "city", "total_spend", "last_order_date"}


def test_fallbacks_for_missing_values() -> None:
    t = parse_template("Hi {first_name|there}, {city|your city}{last_order_date}")
    assert t.render(NOBODY) == "Hi there, your city"


def test_literal_braces() -> None:
    assert parse_template("{{promo}} for {first_name}").render(ASHA) == "{promo} for Asha"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hi {firstname}", "unknown token {firstname}"),
        ("Hi {first_name", "unmatched '{' at character 4"),
        ("Hi first_name}", "unmatched '}'"),
        ("   ", "the message is empty"),
        ("x" * 5001, "longer than 5000"),
    ],
)
def test_template_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_template(text)


def test_variant_split_is_stable_and_even() -> None:
    first = [variant_for(7, cid, 3) for cid in range(30_000)]
    assert first == [variant_for(7, cid, 3) for cid in range(30_000)]
    shares = Counter(first)
    assert set(shares) == {"A", "B", "C"}
    assert all(9_400 < n < 10_600 for n in shares.values())
    assert {variant_for(7, cid, 1) for cid in range(100)} == {"A"}
    # Another campaign splits the same customers differently.
    assert first[:200] != [variant_for(8, cid, 3) for cid in range(200)]


def test_idempotency_keys() -> None:
    uids = [str(uuid.uuid4()) for _ in range(20)]
    assert idempotency_key(uids[0], 2) == idempotency_key(uids[0], 2)
    keys = {idempotency_key(uid, cust) for uid in uids for cust in range(500)}
    assert len(keys) == 20 * 500
    assert all(k.startswith(tuple(uids)) for k in keys)
    # The largest customer id a BIGINT holds still fits deliveries.idempotency_key.
    assert len(idempotency_key(uids[0], 2**63 - 1)) <= 64
    with pytest.raises(ValueError, match="cannot make a message key"):
        idempotency_key("", 1)
