"""What the wizard and the campaign page add to the email and A/B services: a test send of a
campaign not created yet, the email preview, and the test share's results after the winner."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from minicrm_desktop.models.campaign import campaigns_table, deliveries_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, Actor, Role
from minicrm_desktop.services.access.users import add_user
from minicrm_desktop.services.campaigns.abtest import (
    choose_winner,
    results,
    results_of_test_share,
)
from minicrm_desktop.services.campaigns.email import UNSUBSCRIBE_BASE, preview_email
from minicrm_desktop.services.campaigns.headless import run_until_settled
from minicrm_desktop.services.campaigns.launch import (
    CampaignError,
    create_campaign,
    launch_campaign,
)
from minicrm_desktop.services.campaigns.testsend import send_test_draft
from minicrm_desktop.services.campaigns.variants import in_test_share
from minicrm_desktop.services.campaigns.vendor import VendorConfig, VendorLedger
from tests.campaigns.conftest import draft

c = campaigns_table.c
d = deliveries_table.c
VARIANTS = ["Hi {first_name|there}! Stop: {unsubscribe_url}", "Hello {name}"]


def test_a_draft_is_test_sent_without_storing_a_campaign(population: Engine,
                                                          ledger_path: Path) -> None:
    unsent = draft(variants=VARIANTS, subject="{first_name|Friend}, hello",
                   sender_name="Chai", sender_address="news@chai.example",
                   vendor=VendorConfig(success_rate=1.0, seed=1))
    sent = send_test_draft(population, unsent, ["user1@example.com", "boss@example.org"],
                           actor=LOCAL_ADMIN, ledger_path=ledger_path)
    assert [(m.address, m.variant, m.sent) for m in sent] == [
        ("user1@example.com", "A", True), ("user1@example.com", "B", True),
        ("boss@example.org", "A", True), ("boss@example.org", "B", True)]
    assert [m.subject for m in sent[::2]] == ["Name1, hello", "Friend, hello"]
    entries = list(VendorLedger.read_entries(ledger_path))
    assert len(entries) == 4
    assert all(e.test and e.key.startswith("test:draft-") for e in entries)
    assert all(e.sender == "Chai <news@chai.example>" for e in entries)
    assert all(UNSUBSCRIBE_BASE in (e.body or "") for e in entries)  # in B's footer too
    with population.connect() as conn:
        assert conn.execute(select(func.count()).select_from(campaigns_table)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(deliveries_table)).scalar() == 0
    # A second test has keys of its own.
    again = send_test_draft(population, unsent, ["boss@example.org"], actor=LOCAL_ADMIN,
                            ledger_path=ledger_path)
    assert not {m.key for m in again} & {e.key for e in entries}


def test_a_draft_test_send_refuses_what_launch_would(population: Engine,
                                                      ledger_path: Path) -> None:
    no_link = draft(variants=["Hi"], footer="")
    with pytest.raises(CampaignError, match="unsubscribe"):
        send_test_draft(population, no_link, ["a@x.example"], actor=LOCAL_ADMIN,
                        ledger_path=ledger_path)
    with pytest.raises(CampaignError, match="at most 5"):
        send_test_draft(population, draft(), [f"a{i}@x.example" for i in range(6)],
                        actor=LOCAL_ADMIN, ledger_path=ledger_path)
    user = add_user(population, "me@x.example", role=Role.MARKETER, actor=LOCAL_ADMIN)
    signed_in = Actor(user_id=user.id, email="me@x.example", name="Me", role=Role.MARKETER)
    mine = send_test_draft(population, draft(), None, actor=signed_in, ledger_path=ledger_path)
    assert {m.address for m in mine} == {"me@x.example"}


def test_the_preview_fills_subject_body_and_footer() -> None:
    fields: dict[str, object] = {"name": "Asha Rao", "email": "asha@x.example", "city": None}
    shown = preview_email("Hi {first_name|there}", "{first_name}, {city|your city} deals",
                          "Bye: {unsubscribe_url}", "Chai <n@chai.example>", fields)
    assert shown is not None
    assert shown.subject == "Asha, your city deals"
    assert shown.body.startswith("Hi Asha\n\n--\nBye: " + UNSUBSCRIBE_BASE)
    assert preview_email("Hi {nope}", "s", "", None, fields) is None


def test_the_results_of_test_share_survive_the_winner(population: Engine,
                                                   ledger_path: Path) -> None:
    campaign_id = create_campaign(
        population, draft(vendor=VendorConfig(success_rate=0.7, seed=5), ab_test_share=40),
        actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    run_until_settled(population, campaign_id, workers=2, ledger_path=ledger_path)
    with population.connect() as conn:
        winner, reason = conn.execute(select(c.ab_winner, c.ab_reason)
                                      .where(c.id == campaign_id)).one()
        rows = conn.execute(select(d.customer_id, d.variant, d.status)
                            .where(d.campaign_id == campaign_id,
                                   d.status.in_(["sent", "failed"]))).all()
        everything = results(conn, campaign_id)
    tested = results_of_test_share(population, campaign_id)
    assert winner is not None
    # Counted from the rows themselves: the test share is the launch's stable hash.
    expected = {label: [0, 0] for label in "AB"}
    for customer_id, variant, status in rows:
        if in_test_share(campaign_id, customer_id, 40):
            expected[variant][status == "failed"] += 1
    assert [(r.label, r.sent, r.failed) for r in tested] == [
        (label, *expected[label]) for label in "AB"]
    # The winner's whole figures include the released rest; its test figures do not.
    mixed = {r.label: r for r in everything}
    assert mixed[winner].attempted > next(r for r in tested if r.label == winner).attempted
    # And the recorded reason is the one these results give.
    assert choose_winner(tested, "delivered") == (winner, reason)
