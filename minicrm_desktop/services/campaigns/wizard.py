"""The campaign wizard's steps and checks, without Qt (the QWizard asks these).

Steps: basics (name, channel, objective) → audience (a saved segment, or a rule built inline
on its own step) → message (up to three variants, an even split or a test then the winner)
→ email (subject, sender, footer, test sends; email campaigns only) → review (who is
skipped and why, how long it takes) → launch now or at a scheduled time.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, case, func, or_, select

from ...models.base import utcnow
from ...models.campaign import Channel, DeliveryStatus, deliveries_table
from ...models.rules import RuleError, RuleGroup, dump_rule, load_rule
from ...models.tables import customers_table
from ..segments import AudienceMember, audience_where
from .email import DEFAULT_FOOTER, email_problem
from .engine import DEFAULT_WORKERS
from .launch import MAX_AB_WAIT_SECONDS, MAX_VARIANTS, CampaignDraft, CampaignError
from .templates import TOKENS, TemplateError, parse_template
from .vendor import VendorConfig

#: Messages a second the engine reaches with an instant vendor (benchmarks/delivery.py).
ENGINE_THROUGHPUT = 10_000
NAME_LIMIT = 200


class PageId(IntEnum):
    BASICS = 0
    AUDIENCE = 1
    RULE = 2
    MESSAGE = 3
    REVIEW = 4
    EMAIL = 5  # after MESSAGE; numbered last so saved drafts keep their steps


class AudienceSource(StrEnum):
    SEGMENT = "segment"
    RULE = "rule"


@dataclass
class WizardState:
    """What the user has chosen so far (plain data)."""

    name: str = ""
    channel: Channel = Channel.EMAIL
    objective: str = ""
    source: AudienceSource = AudienceSource.SEGMENT
    segment_id: int | None = None
    segment_rule: RuleGroup | None = None
    inline_rule: RuleGroup | None = None
    variants: list[str] = field(default_factory=lambda: [""])
    scheduled_at: datetime | None = None
    rate_per_second: int | None = None
    recent_hours: int | None = None
    vendor: VendorConfig = field(default_factory=VendorConfig)
    as_of: datetime | None = None
    # Email essentials (empty: the campaign's name as subject, Settings' sender).
    subject: str = ""
    sender_name: str = ""
    sender_address: str = ""
    footer: str = DEFAULT_FOOTER
    # A/B with a winner (None: the even split).
    ab_test_share: int | None = None
    ab_wait_seconds: int = 0
    ab_metric: str = "delivered"

    @property
    def rule(self) -> RuleGroup | None:
        return self.segment_rule if self.source == AudienceSource.SEGMENT else self.inline_rule

    def to_json(self) -> str:
        """Everything chosen so far, however partial, as JSON (a saved draft)."""
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, RuleGroup):
                value = json.loads(dump_rule(value))
            elif isinstance(value, VendorConfig):
                value = value.to_dict()
            elif isinstance(value, datetime):
                value = value.isoformat()
            data[name] = value
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> WizardState:
        """A saved draft's state; fields it lacks (saved by an older version) keep their
        defaults, and a rule that no longer loads is dropped (the step asks again)."""
        data = json.loads(text)
        state = cls()
        for name, value in data.items():
            if name not in cls.__dataclass_fields__ or value is None:
                continue
            if name in ("segment_rule", "inline_rule"):
                try:
                    value = load_rule(json.dumps(value))
                except RuleError:
                    continue
            elif name == "vendor":
                value = VendorConfig.from_dict(value)
            elif name in ("scheduled_at", "as_of"):
                value = datetime.fromisoformat(value)
            elif name == "channel":
                value = Channel(value)
            elif name == "source":
                value = AudienceSource(value)
            setattr(state, name, value)
        return state


def next_page(current: PageId, state: WizardState) -> int:
    """The step after `current`; -1 after the last."""
    if current == PageId.BASICS:
        return PageId.AUDIENCE
    if current == PageId.AUDIENCE:
        return PageId.RULE if state.source == AudienceSource.RULE else PageId.MESSAGE
    if current == PageId.RULE:
        return PageId.MESSAGE
    if current == PageId.MESSAGE:
        return PageId.EMAIL if state.channel == Channel.EMAIL else PageId.REVIEW
    if current == PageId.EMAIL:
        return PageId.REVIEW
    return -1


# --- checks: None when the step may go on, else the reason in words ----------------------


def basics_problem(state: WizardState) -> str | None:
    name = state.name.strip()
    if not name:
        return "Give the campaign a name."
    if len(name) > NAME_LIMIT:
        return f"The name is longer than {NAME_LIMIT} characters."
    return None


def audience_problem(state: WizardState) -> str | None:
    if state.source == AudienceSource.SEGMENT:
        return None if state.segment_rule is not None else "Choose a saved segment."
    return None if state.inline_rule is not None else "Fix the rule to choose its customers."


def variant_problem(text: str) -> str | None:
    """Why a message cannot be sent (an unknown token, a stray brace…), or None."""
    try:
        parse_template(text)
    except TemplateError as exc:
        message = str(exc)
        return message[:1].upper() + message[1:] + "."
    return None


def message_problem(variants: list[str]) -> str | None:
    if not 1 <= len(variants) <= MAX_VARIANTS:
        return f"A campaign has 1 to {MAX_VARIANTS} message variants."
    for label, text in zip("ABC", variants, strict=False):
        problem = variant_problem(text)
        if problem:
            return f"Variant {label}: {problem}"
    return None


def email_settings_problem(state: WizardState) -> str | None:
    """For an email: a subject, sender or footer that cannot be sent, or variants without
    the unsubscribe link (and no footer carrying it). None for a text message."""
    if state.channel != Channel.EMAIL:
        return None
    problem = email_problem(state.variants, state.subject, state.footer, state.sender_name,
                            state.sender_address)
    return None if problem is None else problem[:1].upper() + problem[1:] + "."


def ab_problem(state: WizardState) -> str | None:
    """A test-then-winner split that cannot run as chosen (None: the even split, or fine)."""
    if state.ab_test_share is None:
        return None
    if len(state.variants) < 2:
        return "Add a second variant to test against, or split evenly."
    if not 1 <= state.ab_test_share <= 99:
        return "The test share is 1 to 99 percent of the audience."
    if not 0 <= state.ab_wait_seconds <= MAX_AB_WAIT_SECONDS:
        return "The wait is at most 30 days."
    return None


def describe_split(state: WizardState) -> str:
    """How the variants reach the audience, in words (the review page's line)."""
    count = len(state.variants)
    if count < 2:
        return "One message to everyone."
    labels = "/".join("ABC"[:count])
    if state.ab_test_share is None:
        return f"An even {labels} split across the whole audience."
    metric = ("the most opened (engagement)" if state.ab_metric == "engagement"
              else "the best delivery rate")
    wait = describe_wait(state.ab_wait_seconds)
    when = wait if state.ab_wait_seconds == 0 else f"{wait} after launch"
    return (f"{labels} tested on {state.ab_test_share}% of the audience; {when}, "
            f"the variant with {metric} goes to the other {100 - state.ab_test_share}%.")


def describe_wait(seconds: int) -> str:
    if seconds == 0:
        return "as soon as the test is sent"
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def schedule_problem(when: datetime | None, now: datetime | None = None) -> str | None:
    if when is None:
        return None
    if when <= (now or utcnow()):
        return "The scheduled time has passed: pick a later time, or launch now."
    return None


def token_help() -> str:
    return "Tokens: " + ", ".join("{" + name + "}" for name in TOKENS) + \
        ". Add a fallback after a bar: {first_name|there}."


# --- previews and the review --------------------------------------------------------------


def render_previews(variants: list[str], members: list[AudienceMember]) -> list[list[str]]:
    """Each variant rendered for each sample customer; a variant with a problem renders
    as an empty list."""
    previews: list[list[str]] = []
    for text in variants:
        try:
            template = parse_template(text)
        except TemplateError:
            previews.append([])
            continue
        previews.append([template.render(asdict(member)) for member in members])
    return previews


@dataclass(frozen=True)
class AudienceReview:
    """Who the campaign reaches and who it will skip, and why (as launch will record it)."""

    audience: int
    skipped: dict[str, int]

    @property
    def sendable(self) -> int:
        return self.audience - sum(self.skipped.values())


def review_audience(
    engine: Engine,
    rule: RuleGroup,
    channel: Channel,
    *,
    as_of: datetime | None = None,
    recent_hours: int | None = None,
) -> AudienceReview:
    """Count the audience and its suppressions in one query, in the order launch applies
    them: unsubscribed, then no address for the channel, then messaged recently."""
    cust = customers_table.c
    address = cust.email if channel == Channel.EMAIL else cust.phone
    no_address = or_(address.is_(None), func.trim(address) == "")
    subscribed = cust.subscribed.is_(True)
    columns = [func.count(), _how_many(~subscribed), _how_many(and_(subscribed, no_address))]
    if recent_hours:
        d = deliveries_table.c
        recent = cust.id.in_(
            select(d.customer_id).where(
                d.status == DeliveryStatus.SENT.value,
                d.updated_at >= utcnow() - timedelta(hours=recent_hours),
            )
        )
        columns.append(_how_many(and_(subscribed, ~no_address, recent)))
    where = audience_where(engine, rule, as_of)
    with engine.connect() as conn:
        row = conn.execute(select(*columns).select_from(customers_table).where(where)).one()
    no_address_reason = "no phone number" if channel == Channel.SMS else "no email address"
    skipped = {"unsubscribed": int(row[1] or 0), no_address_reason: int(row[2] or 0)}
    if recent_hours:
        skipped[f"messaged in the last {recent_hours} hours"] = int(row[3] or 0)
    return AudienceReview(int(row[0]), {k: v for k, v in skipped.items() if v})


def _how_many(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def estimated_seconds(
    sendable: int,
    *,
    rate_per_second: int | None = None,
    vendor: VendorConfig | None = None,
    workers: int = DEFAULT_WORKERS,
) -> float:
    """How long sending takes: the slowest of the campaign's rate limit, the vendor's
    limit, and what the workers manage at the vendor's latency."""
    vendor = vendor or VendorConfig()
    rates = [float(ENGINE_THROUGHPUT)]
    if rate_per_second:
        rates.append(float(rate_per_second))
    if vendor.rate_limit:
        rates.append(float(vendor.rate_limit))
    if vendor.latency_ms > 0:
        rates.append(workers * 1000.0 / vendor.latency_ms)
    return sendable / min(rates)


def describe_duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {math.ceil(seconds)} seconds"
    if seconds < 90 * 60:
        return f"about {math.ceil(seconds / 60)} minutes"
    return f"about {seconds / 3600:.1f} hours"


def build_draft(state: WizardState, created_by: str | None = None) -> CampaignDraft:
    """The campaign to create; raises CampaignError (via `check`) if a step was skipped."""
    rule = state.rule
    for problem in (basics_problem(state), audience_problem(state),
                    message_problem(state.variants), ab_problem(state),
                    email_settings_problem(state)):
        if problem:
            raise CampaignError(problem)
    assert rule is not None
    draft = CampaignDraft(
        name=state.name.strip(),
        channel=state.channel,
        rule=rule,
        variants=list(state.variants),
        objective=state.objective.strip(),
        segment_id=state.segment_id if state.source == AudienceSource.SEGMENT else None,
        as_of=state.as_of,
        scheduled_at=state.scheduled_at,
        rate_per_second=state.rate_per_second,
        recent_hours=state.recent_hours,
        vendor=state.vendor,
        created_by=created_by,
        subject=state.subject,
        sender_name=state.sender_name,
        sender_address=state.sender_address,
        footer=state.footer,
        ab_test_share=state.ab_test_share,
        ab_wait_seconds=state.ab_wait_seconds,
        ab_metric=state.ab_metric,
    )
    draft.check()
    return draft
