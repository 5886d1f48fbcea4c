"""Test sends: an email campaign's variants to yourself or a few colleagues, before launch.

A campaign not created yet (the wizard's) can be tested too: `send_test_draft`.
They go through the same vendor, marked as tests under keys of their own
("test:<campaign uid>:<n>"), and touch nothing the campaign counts: no delivery rows, no
audience or sent figures. Each recipient's message is personalised as the customer with that
address would get it (fallbacks when no customer has it).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from ...models.campaign import Channel, campaigns_table
from ...models.tables import customers_table
from ..access.actor import Actor, Permission
from ..access.audit import Action, record
from ..access.users import authorize
from . import store
from .email import compose_body, sender_line, unsubscribe_url
from .launch import CampaignDraft, CampaignError
from .templates import parse_template
from .variants import VARIANT_LABELS
from .vendor import Message, Vendor

MAX_TEST_ADDRESSES = 5
c = campaigns_table.c


@dataclass(frozen=True)
class TestMessage:
    key: str
    address: str
    variant: str
    subject: str | None
    sent: bool
    reason: str | None


def send_test(
    engine: Engine,
    campaign_id: int,
    addresses: list[str] | None = None,
    *,
    actor: Actor,
    ledger_path: Path | None = None,
    variant: str | None = None,
) -> list[TestMessage]:
    """Send each variant (or just `variant`) to each address — by default the actor's own —
    through the campaign's vendor, marked as a test."""
    recipients = _recipients(addresses, actor)
    plan = store.load_plan(engine, campaign_id)
    if plan is None:
        raise CampaignError(f"there is no campaign {campaign_id}")
    if plan.channel != Channel.EMAIL.value:
        raise CampaignError("test sends are for email campaigns")
    labels = sorted(plan.templates) if variant is None else [variant]
    if any(label not in plan.templates for label in labels):
        raise CampaignError(f"campaign {campaign_id} has no variant {variant}")
    count = len(labels) * len(recipients)
    with engine.begin() as conn:
        authorize(conn, actor, Permission.CREATE_CAMPAIGNS)
        # Reserve the numbers of this test's keys: a test send is never a repeat of one.
        conn.execute(update(campaigns_table).where(c.id == campaign_id)
                     .values(test_sends=c.test_sends + count))
        last, uid = conn.execute(select(c.test_sends, c.uid).where(c.id == campaign_id)).one()
        people = _people(conn, recipients)
        record(conn, actor, Action.CAMPAIGN_TEST_SEND,
               {"campaign_id": campaign_id, "messages": count, "addresses": len(recipients)})
    return _send(plan, labels, recipients, people, uid, last - count, ledger_path)


def send_test_draft(
    engine: Engine,
    draft: CampaignDraft,
    addresses: list[str] | None = None,
    *,
    actor: Actor,
    ledger_path: Path | None = None,
) -> list[TestMessage]:
    """A test send of a campaign not created yet (the wizard's): each variant to each
    address as `send_test` does, under keys of a one-off id ("test:draft-<uuid>:<n>") and a
    one-off link secret, so nothing is stored but the audit entry."""
    recipients = _recipients(addresses, actor)
    if draft.channel != Channel.EMAIL:
        raise CampaignError("test sends are for email campaigns")
    draft.check()
    columns = draft.email_columns()
    plan = store.CampaignPlan(
        0, draft.channel.value, "draft",
        dict(zip(VARIANT_LABELS, draft.variants, strict=False)), draft.rate_per_second,
        draft.max_attempts, draft.vendor, columns["subject"],
        sender_line(columns["sender_name"], columns["sender_address"]), columns["footer"],
        secrets.token_hex(32))
    labels = sorted(plan.templates)
    with engine.begin() as conn:
        authorize(conn, actor, Permission.CREATE_CAMPAIGNS)
        people = _people(conn, recipients)
        record(conn, actor, Action.CAMPAIGN_TEST_SEND,
               {"campaign": draft.name.strip(), "messages": len(labels) * len(recipients),
                "addresses": len(recipients)})
    return _send(plan, labels, recipients, people, f"draft-{uuid.uuid4()}", 0, ledger_path)


def _recipients(addresses: list[str] | None, actor: Actor) -> list[str]:
    recipients = [a.strip() for a in (addresses or []) if a.strip()]
    if not recipients:
        if actor.account_email is None:
            raise CampaignError("name the addresses to send the test to (you are not signed "
                                "in, so there is no address of yours)")
        recipients = [actor.account_email]
    if len(recipients) > MAX_TEST_ADDRESSES:
        raise CampaignError(f"a test goes to at most {MAX_TEST_ADDRESSES} addresses, got "
                            f"{len(recipients)}")
    bad = [a for a in recipients if "@" not in a or " " in a]
    if bad:
        raise CampaignError(f"not an email address: {', '.join(bad)}")
    return recipients


def _people(conn: Connection, recipients: list[str]) -> dict[str, dict[str, Any]]:
    """The customers with these addresses, to personalise each test as they would get it."""
    cust = customers_table.c
    return {
        str(row.email).lower(): dict(row._mapping)
        for row in conn.execute(
            select(cust.name, cust.email, cust.city, cust.total_spend_minor, cust.last_order_at)
            .where(func.lower(cust.email).in_([a.lower() for a in recipients]))
        )
    }


def _send(plan: store.CampaignPlan, labels: list[str], recipients: list[str],
          people: dict[str, dict[str, Any]], uid: str, first: int,
          ledger_path: Path | None) -> list[TestMessage]:
    """Each label to each recipient through the plan's vendor, keys numbered after `first`."""
    subject = parse_template(plan.subject) if plan.subject else None
    footer = parse_template(plan.footer) if plan.footer and plan.footer.strip() else None
    vendor = Vendor(plan.vendor, ledger_path)
    sent: list[TestMessage] = []
    try:
        n = first
        for address in recipients:
            fields: dict[str, Any] = people.get(address.lower(), {"email": address})
            for label in labels:
                n += 1
                key = f"test:{uid}:{n}"
                fields = {**fields, "unsubscribe_url": unsubscribe_url(plan.link_secret, key)}
                message = Message(
                    key, plan.campaign_id, plan.channel, address,
                    compose_body(parse_template(plan.templates[label]), footer, fields), 1,
                    subject=subject.render(fields) if subject else None,
                    sender=plan.sender, test=True,
                )
                outcome = vendor.send(message)
                # A transient failure is tried again at once, as often as the campaign would.
                while outcome.transient and message.attempt < plan.max_attempts:
                    message = replace(message, attempt=message.attempt + 1)
                    outcome = vendor.send(message)
                sent.append(TestMessage(key, address, label, message.subject, outcome.sent,
                                        outcome.reason))
    finally:
        vendor.close()
    return sent
