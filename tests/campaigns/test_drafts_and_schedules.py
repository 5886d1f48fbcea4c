"""Drafts saved from the wizard and reopened where they were left; a scheduled campaign's
time changed or cancelled before it starts, and refused after."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.models.campaign import Channel, campaigns_table
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.models.tables import audit_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, AccessDenied, Actor, Role
from minicrm_desktop.services.access.audit import Action
from minicrm_desktop.services.campaigns import history
from minicrm_desktop.services.campaigns.drafts import (
    UNTITLED,
    cancel_before_start,
    discard_draft,
    load_draft,
    reschedule_campaign,
    save_draft,
)
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
    build_draft,
)
from tests.campaigns.conftest import draft

c = campaigns_table.c
PUNE = parse_rule(
    {"combinator": "and", "rules": [{"field": "city", "operator": "=", "value": "pune"}]})
VIEWER = Actor(user_id=None, email="viewer@x.example", name="V", role=Role.VIEWER)


def actions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(audit_table.c.action).order_by(audit_table.c.id))
                    .scalars())


def test_a_half_done_wizard_is_saved_and_reopens_where_it_was_left(population: Engine) -> None:
    # Only a name so far, on the first step.
    first = save_draft(population, WizardState(name="  Diwali  "), PageId.BASICS,
                       actor=LOCAL_ADMIN)
    # Nothing at all yet: still saved, under a placeholder name.
    empty = save_draft(population, WizardState(), PageId.BASICS, actor=LOCAL_ADMIN)
    assert load_draft(population, empty).state == WizardState()
    assert {d.name for d in history.list_drafts(population)} == {UNTITLED, "Diwali"}

    state = WizardState(
        name="Diwali", channel=Channel.EMAIL, objective="Win back", source=AudienceSource.RULE,
        inline_rule=PUNE, variants=["Hi {first_name|there} {unsubscribe_url}", "Hello {"],
        scheduled_at=datetime(2031, 1, 2, 9, 30, tzinfo=UTC), rate_per_second=50,
        recent_hours=24, vendor=VendorConfig(success_rate=0.7, seed=9, open_rate=0.2),
        subject="{first_name|Friend}, lights are on", sender_name="Chai",
        sender_address="hi@chai.example", ab_test_share=20, ab_wait_seconds=7200,
        ab_metric="engagement",
    )
    assert save_draft(population, state, PageId.MESSAGE, actor=LOCAL_ADMIN,
                      draft_id=first) == first
    saved = load_draft(population, first)
    assert saved.step == PageId.MESSAGE
    # Everything comes back as it was, the unfinished variant ("Hello {") included.
    assert saved.state == state
    listed = {d.id: d for d in history.list_drafts(population)}
    assert listed[first].step == "message"
    assert listed[first].name == "Diwali"
    # An unfinished draft does not launch; the wizard finishes it into a real campaign.
    with pytest.raises(CampaignError, match="unfinished draft: finish it in the wizard"):
        launch_campaign(population, first, actor=LOCAL_ADMIN)
    saved.state.variants[1] = "Hello {name}"
    saved.state.scheduled_at = None
    campaign_id = create_campaign(population, build_draft(saved.state), actor=LOCAL_ADMIN,
                                  replacing_draft=first)
    assert first not in {d.id for d in history.list_drafts(population)}
    with pytest.raises(CampaignError, match=f"no unfinished draft {first}"):
        load_draft(population, first)
    details = history.campaign_details(population, campaign_id)
    assert details["subject"] == "{first_name|Friend}, lights are on"
    assert details["ab_test"]["metric"] == "engagement"
    assert launch_campaign(population, campaign_id, actor=LOCAL_ADMIN).audience == 200 - 29

    discard_draft(population, empty, actor=LOCAL_ADMIN)
    assert history.list_drafts(population) == []
    assert actions(population).count(Action.CAMPAIGN_DRAFT_SAVE) == 3
    assert Action.CAMPAIGN_DRAFT_DISCARD in actions(population)


def test_drafts_need_the_right_to_create_campaigns(population: Engine) -> None:
    with pytest.raises(AccessDenied):
        save_draft(population, WizardState(name="x"), PageId.BASICS, actor=VIEWER)
    draft_id = save_draft(population, WizardState(name="x"), PageId.BASICS, actor=LOCAL_ADMIN)
    with pytest.raises(AccessDenied):
        discard_draft(population, draft_id, actor=VIEWER)
    assert [d.id for d in history.list_drafts(population)] == [draft_id]


def test_a_draft_saved_by_an_older_version_or_with_a_stale_rule_still_opens(
    population: Engine,
) -> None:
    draft_id = save_draft(population, WizardState(name="Old"), PageId.AUDIENCE,
                          actor=LOCAL_ADMIN)
    stale = {"step": 99, "state": {"name": "Old", "inline_rule": {"nonsense": True},
                                   "source": "rule"}}
    with population.begin() as conn:
        conn.execute(campaigns_table.update().where(c.id == draft_id)
                     .values(wizard_json=json.dumps(stale)))
    saved = load_draft(population, draft_id)
    assert saved.step == PageId.BASICS
    assert (saved.state.name, saved.state.inline_rule) == ("Old", None)
    assert saved.state.source == AudienceSource.RULE


_NOW = datetime.now(UTC).replace(microsecond=0)


def later(days: int) -> datetime:
    """Days from the tests' start (one clock reading: equal whenever it is called)."""
    return _NOW + timedelta(days=days)


def scheduled_at(engine: Engine, campaign_id: int) -> datetime | None:
    with engine.connect() as conn:
        return conn.execute(select(c.scheduled_at).where(c.id == campaign_id)).scalar()


def test_reschedule_before_the_start_and_refused_after(population: Engine) -> None:
    campaign_id = create_campaign(population, draft(scheduled_at=later(3)), actor=LOCAL_ADMIN)
    assert reschedule_campaign(population, campaign_id, later(5), actor=LOCAL_ADMIN) == later(3)
    assert scheduled_at(population, campaign_id) == later(5)
    assert actions(population)[-1] == Action.CAMPAIGN_RESCHEDULE
    with pytest.raises(CampaignError, match="has passed"):
        reschedule_campaign(population, campaign_id, later(-1), actor=LOCAL_ADMIN)
    with pytest.raises(AccessDenied):
        reschedule_campaign(population, campaign_id, later(9), actor=VIEWER)
    assert scheduled_at(population, campaign_id) == later(5)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    with pytest.raises(CampaignError, match="is running: only a scheduled campaign that has "
                       "not started can be rescheduled"):
        reschedule_campaign(population, campaign_id, later(9), actor=LOCAL_ADMIN)
    assert scheduled_at(population, campaign_id) == later(5)
    unscheduled = create_campaign(population, draft(), actor=LOCAL_ADMIN)
    with pytest.raises(CampaignError, match="is draft"):
        reschedule_campaign(population, unscheduled, later(9), actor=LOCAL_ADMIN)


def test_cancel_before_the_start_and_refused_after(population: Engine) -> None:
    waiting = create_campaign(population, draft(scheduled_at=later(2)), actor=LOCAL_ADMIN)
    started = create_campaign(population, draft(scheduled_at=later(2)), actor=LOCAL_ADMIN)
    with pytest.raises(AccessDenied):
        cancel_before_start(population, waiting, actor=VIEWER)
    cancel_before_start(population, waiting, actor=LOCAL_ADMIN)
    assert history.campaign_details(population, waiting)["status"] == "cancelled"
    assert actions(population)[-1] == Action.CAMPAIGN_CANCEL
    launch_campaign(population, started, actor=LOCAL_ADMIN)
    with pytest.raises(CampaignError, match="is running: only a campaign that has not "
                       "started can be cancelled this way"):
        cancel_before_start(population, started, actor=LOCAL_ADMIN)
    assert history.campaign_details(population, started)["status"] == "running"
    with pytest.raises(CampaignError, match="no campaign 999"):
        cancel_before_start(population, 999, actor=LOCAL_ADMIN)


def test_reschedule_and_cancel_from_the_cli(
    population: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    campaign_id = create_campaign(population, draft(scheduled_at=later(3)), actor=LOCAL_ADMIN)
    at = later(4)
    assert cli_main(["--db", db_url, "campaign", "reschedule", str(campaign_id), "--at",
                     at.isoformat()], actor=LOCAL_ADMIN) == 0
    assert f"now starts at {at.isoformat()}" in capsys.readouterr().out
    assert scheduled_at(population, campaign_id) == at
    assert cli_main(["--db", db_url, "campaign", "cancel", str(campaign_id)],
                    actor=LOCAL_ADMIN) == 0
    assert cli_main(["--db", db_url, "campaign", "reschedule", str(campaign_id), "--at",
                     later(6).isoformat()], actor=LOCAL_ADMIN) == 2
    assert "is cancelled: only a scheduled campaign" in capsys.readouterr().err
    assert cli_main(["--db", db_url, "campaign", "cancel", str(campaign_id)],
                    actor=LOCAL_ADMIN) == 2
    assert "can no longer be cancelled" in capsys.readouterr().err

    save_draft(population, WizardState(name="Half"), PageId.RULE, actor=LOCAL_ADMIN)
    assert cli_main(["--db", db_url, "campaign", "drafts", "--json"], actor=LOCAL_ADMIN) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["name"], d["step"]) for d in listed] == [("Half", "rule")]


@given(
    name=st.text(max_size=30),
    variants=st.lists(st.text(max_size=40), min_size=1, max_size=3),
    subject=st.text(max_size=30),
    share=st.none() | st.integers(1, 99),
    wait=st.integers(0, 10**6),
    channel=st.sampled_from(list(Channel)),
    when=st.none() | st.datetimes(timezones=st.just(UTC)),
)
def test_any_wizard_state_survives_the_round_trip(
    name: str, variants: list[str], subject: str, share: int | None, wait: int,
    channel: Channel, when: datetime | None,
) -> None:
    state = WizardState(name=name, variants=variants, subject=subject, ab_test_share=share,
                        ab_wait_seconds=wait, channel=channel, scheduled_at=when,
                        inline_rule=PUNE, source=AudienceSource.RULE)
    assert WizardState.from_json(state.to_json()) == state
