"""The campaign wizard's step logic, with no Qt: order of steps, checks, previews, review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from minicrm_desktop.models.campaign import Channel
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.launch import (
    CampaignError,
    create_campaign,
    launch_campaign,
)
from minicrm_desktop.services.campaigns.vendor import VendorConfig
from minicrm_desktop.services.campaigns.wizard import (
    AudienceSource,
    PageId,
    WizardState,
    ab_problem,
    audience_problem,
    basics_problem,
    build_draft,
    describe_duration,
    describe_split,
    email_settings_problem,
    estimated_seconds,
    message_problem,
    next_page,
    render_previews,
    review_audience,
    schedule_problem,
    variant_problem,
)
from minicrm_desktop.services.segments import AudienceMember

EVERYONE = parse_rule({"combinator": "and", "rules": []})


def test_steps_branch_on_the_audience_source() -> None:
    state = WizardState()
    assert next_page(PageId.BASICS, state) == PageId.AUDIENCE
    assert next_page(PageId.AUDIENCE, state) == PageId.MESSAGE
    state.source = AudienceSource.RULE
    assert next_page(PageId.AUDIENCE, state) == PageId.RULE
    assert next_page(PageId.RULE, state) == PageId.MESSAGE
    # An email has its own step (subject, sender, footer); a text message goes to review.
    assert next_page(PageId.MESSAGE, state) == PageId.EMAIL
    assert next_page(PageId.EMAIL, state) == PageId.REVIEW
    state.channel = Channel.SMS
    assert next_page(PageId.MESSAGE, state) == PageId.REVIEW
    assert next_page(PageId.REVIEW, state) == -1


def test_the_split_in_words_and_its_problems() -> None:
    state = WizardState(variants=["Hi", "Hello"])
    assert describe_split(state) == "An even A/B split across the whole audience."
    state.ab_test_share, state.ab_wait_seconds = 20, 7200
    assert describe_split(state) == (
        "A/B tested on 20% of the audience; 2 hours after launch, the variant with the best "
        "delivery rate goes to the other 80%.")
    state.ab_metric, state.ab_wait_seconds = "engagement", 90
    assert "90 seconds after launch" in describe_split(state)
    assert "the most opened (engagement)" in describe_split(state)
    assert ab_problem(state) is None
    state.ab_wait_seconds = 0
    assert "; as soon as the test is sent, the variant" in describe_split(state)
    state.variants = ["Hi"]
    assert ab_problem(state) == "Add a second variant to test against, or split evenly."
    assert describe_split(state) == "One message to everyone."


def test_each_step_says_what_is_missing() -> None:
    state = WizardState()
    assert basics_problem(state) == "Give the campaign a name."
    state.name = "  Diwali  "
    assert basics_problem(state) is None
    assert audience_problem(state) == "Choose a saved segment."
    state.segment_id, state.segment_rule = 7, EVERYONE
    assert audience_problem(state) is None
    state.source = AudienceSource.RULE
    assert audience_problem(state) == "Fix the rule to choose its customers."
    state.inline_rule = EVERYONE
    assert audience_problem(state) is None


def test_unknown_tokens_and_stray_braces_are_named() -> None:
    assert variant_problem("Hi {first_name|there}") is None
    problem = variant_problem("Hi {frist_name}")
    assert problem is not None
    assert "{frist_name}" in problem
    assert (variant_problem("Hi {name") or "").startswith("Unmatched")
    assert variant_problem("   ") == "The message is empty."
    assert message_problem(["ok", "Hello {nope}"]) is not None
    assert (message_problem(["ok", "Hello {nope}"]) or "").startswith("Variant B:")
    assert message_problem([]) is not None
    assert message_problem(["a", "b", "c", "d"]) is not None
    assert message_problem(["a {city|there}", "b"]) is None


def test_schedule_must_be_in_the_future() -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert schedule_problem(None, now) is None
    assert schedule_problem(now + timedelta(minutes=5), now) is None
    assert schedule_problem(now - timedelta(minutes=5), now) is not None


def test_previews_render_each_variant_for_each_sample_customer() -> None:
    members = [
        AudienceMember(1, "a@x.in", "Asha Rao", "Pune", True, 123_400, 2, None),
        AudienceMember(2, "b@x.in", None, None, True, 0, 0, None),
    ]
    previews = render_previews(["Hi {first_name|there} from {city|us}", "Bad {x}"], members)
    assert previews[0] == ["Hi Asha from Pune", "Hi there from us"]
    assert previews[1] == []


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS])
def test_review_counts_the_skips_launch_will_record(population: Engine,
                                                    channel: Channel) -> None:
    rule = parse_rule({"combinator": "and", "rules": [
        {"field": "city", "operator": "in", "value": ["Pune"]}]})
    review = review_audience(population, rule, channel)
    state = WizardState(name="Check", channel=channel, source=AudienceSource.RULE,
                        inline_rule=rule, variants=["Hi {name}"])
    campaign_id = create_campaign(population, build_draft(state), actor=LOCAL_ADMIN)
    summary = launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    assert review.audience == summary.audience
    assert review.skipped == summary.skipped_reasons
    assert review.sendable == summary.queued
    if channel == Channel.SMS:
        assert review.skipped["no phone number"] > 0
    assert review.skipped["unsubscribed"] > 0


def test_estimated_duration() -> None:
    assert estimated_seconds(10_000) == pytest.approx(1.0)
    assert estimated_seconds(600, rate_per_second=10) == pytest.approx(60)
    slow = VendorConfig(latency_ms=50)
    assert estimated_seconds(1_600, vendor=slow, workers=8) == pytest.approx(10)
    assert describe_duration(0.2) == "under a second"
    assert describe_duration(60) == "about 60 seconds"
    assert describe_duration(600) == "about 10 minutes"
    assert describe_duration(3 * 3600) == "about 3.0 hours"


def test_build_draft_refuses_an_unfinished_wizard() -> None:
    with pytest.raises(CampaignError, match="name"):
        build_draft(WizardState())
    state = WizardState(name="Go", segment_id=3, segment_rule=EVERYONE,
                        variants=["Hi {first_name|there}", "Yo"], objective=" sales ")
    draft = build_draft(state)
    assert draft.segment_id == 3
    assert draft.objective == "sales"
    assert draft.variants == ["Hi {first_name|there}", "Yo"]
    state.source = AudienceSource.RULE
    state.inline_rule = EVERYONE
    assert build_draft(state).segment_id is None


def test_email_settings_are_checked_and_reach_the_draft() -> None:
    state = WizardState(name="Diwali", source=AudienceSource.RULE, inline_rule=EVERYONE,
                        variants=["Hi {first_name|there}", "Hello"], footer="",
                        subject="{first_name|Friend}: lights", sender_name="Chai",
                        sender_address="hi@chai.example")
    assert email_settings_problem(state) == (
        "Variants A and B have no {unsubscribe_url}: every email must carry an unsubscribe link "
        "(in the message or the footer).")
    with pytest.raises(CampaignError, match="unsubscribe link"):
        build_draft(state)
    state.footer = "Bye: {unsubscribe_url}"
    assert email_settings_problem(state) is None
    built = build_draft(state)
    assert (built.subject, built.sender_name, built.sender_address, built.footer) == (
        "{first_name|Friend}: lights", "Chai", "hi@chai.example", "Bye: {unsubscribe_url}")
    state.sender_address = "nobody"
    assert email_settings_problem(state) == (
        "The from-address 'nobody' is not an email address.")
    # A text message has no footer to check.
    state.channel = Channel.SMS
    assert email_settings_problem(state) is None
