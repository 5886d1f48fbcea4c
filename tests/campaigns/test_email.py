"""Email essentials: subject and sender per recipient, the unsubscribe link, test sends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from minicrm_desktop.models.campaign import Channel, campaigns_table, deliveries_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, AccessDenied, Actor, Role
from minicrm_desktop.services.campaigns.email import UNSUBSCRIBE_BASE, unsubscribe_url
from minicrm_desktop.services.campaigns.headless import run_until_settled
from minicrm_desktop.services.campaigns.launch import (
    CampaignError,
    create_campaign,
    launch_campaign,
)
from minicrm_desktop.services.campaigns.store import counts
from minicrm_desktop.services.campaigns.testsend import send_test
from minicrm_desktop.services.campaigns.vendor import VendorConfig, VendorLedger
from tests.campaigns.conftest import draft
from tests.campaigns.invariants import assert_campaign_consistent

c = campaigns_table.c
d = deliveries_table.c
EMAIL = {
    "subject": "{first_name|Friend}, 20% off in {city|your city}",
    "sender_name": "Chai & Co",
    "sender_address": "news@chai.example",
    "footer": "",
    "variants": ["Hi {first_name|there}! Stop: {unsubscribe_url}",
                 "Hello {name}. Unsubscribe: {unsubscribe_url}"],
}


def secret_of(engine: Engine, campaign_id: int) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(c.link_secret).where(c.id == campaign_id)).scalar_one())


def test_subject_sender_and_unsubscribe_link_per_recipient(
    population: Engine, ledger_path: Path
) -> None:
    campaign_id = create_campaign(population, draft(**EMAIL), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    run_until_settled(population, campaign_id, workers=4, ledger_path=ledger_path)
    statuses = assert_campaign_consistent(population, campaign_id, ledger_path)
    assert statuses["sent"] > 100
    with population.connect() as conn:
        email_of = dict(conn.execute(
            select(d.idempotency_key, d.address).where(d.campaign_id == campaign_id)).all())
    secret = secret_of(population, campaign_id)
    entries = list(VendorLedger.read_entries(ledger_path, campaign_id))
    # Every sent message is there (one that only failed transiently is not: hence <=).
    assert statuses["sent"] <= len(entries) <= statuses["sent"] + statuses["failed"]
    links = set()
    for entry in entries:
        i = int(email_of[entry.key].removeprefix("user").split("@")[0])
        city = "your city" if i % 7 == 0 else "Pune"
        assert entry.subject == f"Name{i}, 20% off in {city}"
        assert entry.sender == "Chai & Co <news@chai.example>"
        assert not entry.test
        link = unsubscribe_url(secret, entry.key)
        assert link.startswith(UNSUBSCRIBE_BASE)
        assert entry.body is not None
        assert link in entry.body
        assert "{" not in entry.body
        links.add(link)
    assert len(links) == len(entries)  # each recipient their own link
    # The link is deterministic, and unguessable without the campaign's secret.
    assert unsubscribe_url(secret, entries[0].key) == unsubscribe_url(secret, entries[0].key)
    assert unsubscribe_url("another secret", entries[0].key) not in links


def test_default_subject_sender_and_footer(population: Engine, ledger_path: Path) -> None:
    campaign_id = create_campaign(population, draft(name="Monsoon"), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    run_until_settled(population, campaign_id, workers=2, ledger_path=ledger_path)
    entry = next(VendorLedger.read_entries(ledger_path, campaign_id))
    assert entry.subject == "Monsoon"
    assert entry.sender == "MiniCRM <marketing@example.com>"
    assert entry.body is not None
    assert unsubscribe_url(secret_of(population, campaign_id), entry.key) in entry.body


def test_an_email_without_an_unsubscribe_link_is_refused(population: Engine) -> None:
    with pytest.raises(CampaignError, match=r"variant B has no \{unsubscribe_url\}"):
        create_campaign(population, draft(**{**EMAIL, "variants": [
            "Hi {unsubscribe_url}", "Hello, no link"]}), actor=LOCAL_ADMIN)
    with pytest.raises(CampaignError, match="unsubscribe link"):
        create_campaign(population, draft(footer="Thanks", variants=["Hi"]), actor=LOCAL_ADMIN)
    with pytest.raises(CampaignError, match="the subject: unknown token"):
        create_campaign(population, draft(subject="{nope}"), actor=LOCAL_ADMIN)
    with pytest.raises(CampaignError, match="not an email address"):
        create_campaign(population, draft(sender_address="nobody"), actor=LOCAL_ADMIN)
    with population.connect() as conn:
        assert conn.execute(select(func.count()).select_from(campaigns_table)).scalar() == 0
    # A text message has no such footer.
    create_campaign(population, draft(channel=Channel.SMS, footer="", variants=["Hi"]),
                    actor=LOCAL_ADMIN)


def test_a_test_send_reaches_the_vendor_marked_and_changes_no_figures(
    population: Engine, ledger_path: Path
) -> None:
    reliable = VendorConfig(success_rate=1.0, seed=3)
    campaign_id = create_campaign(population, draft(**EMAIL, vendor=reliable), actor=LOCAL_ADMIN)
    sent = send_test(population, campaign_id, ["user1@example.com", "boss@example.org"],
                     actor=LOCAL_ADMIN, ledger_path=ledger_path)
    assert [(m.address, m.variant) for m in sent] == [
        ("user1@example.com", "A"), ("user1@example.com", "B"),
        ("boss@example.org", "A"), ("boss@example.org", "B")]
    with population.connect() as conn:
        uid = conn.execute(select(c.uid).where(c.id == campaign_id)).scalar_one()
    entries = {e.key: e for e in VendorLedger.read_entries(ledger_path, campaign_id)}
    assert set(entries) == {f"test:{uid}:{n}" for n in range(1, 5)}
    assert all(e.test for e in entries.values())
    # Personalised as the customer with that address gets it; fallbacks for a stranger.
    assert entries[f"test:{uid}:1"].subject == "Name1, 20% off in Pune"
    assert entries[f"test:{uid}:3"].subject == "Friend, 20% off in your city"
    assert "Hi there! Stop: " + UNSUBSCRIBE_BASE in (entries[f"test:{uid}:3"].body or "")
    # A second test has keys of its own; the campaign's figures never moved.
    send_test(population, campaign_id, ["boss@example.org"], actor=LOCAL_ADMIN,
              ledger_path=ledger_path, variant="B")
    assert f"test:{uid}:5" in {e.key for e in VendorLedger.read_entries(ledger_path)}
    before = counts(population, campaign_id)
    assert before is not None
    assert (before.audience, before.sent, before.failed) == (0, 0, 0)
    with population.connect() as conn:
        rows = conn.execute(select(func.count()).where(d.campaign_id == campaign_id)).scalar()
    assert rows == 0

    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    run_until_settled(population, campaign_id, workers=4, ledger_path=ledger_path)
    statuses = assert_campaign_consistent(population, campaign_id, ledger_path)
    after = counts(population, campaign_id)
    assert after is not None
    assert after.sent == statuses["sent"]
    assert after.sent == 180  # the recipients, not the tests


def test_test_send_limits_and_roles(population: Engine, ledger_path: Path) -> None:
    campaign_id = create_campaign(population, draft(**EMAIL), actor=LOCAL_ADMIN)
    with pytest.raises(CampaignError, match="at most 5 addresses"):
        send_test(population, campaign_id, [f"a{i}@x.example" for i in range(6)],
                  actor=LOCAL_ADMIN, ledger_path=ledger_path)
    with pytest.raises(CampaignError, match="name the addresses"):
        send_test(population, campaign_id, actor=LOCAL_ADMIN, ledger_path=ledger_path)
    viewer = Actor(user_id=None, email="viewer@x.example", name="V", role=Role.VIEWER)
    with pytest.raises(AccessDenied):
        send_test(population, campaign_id, ["a@x.example"], actor=viewer,
                  ledger_path=ledger_path)
    assert not ledger_path.exists() or not list(VendorLedger.read_entries(ledger_path))


def test_email_options_and_test_send_from_the_cli(
    population: Engine, db_url: str, ledger_path: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from minicrm_desktop.cli.main import main as cli_main

    rule = tmp_path / "rule.json"
    rule.write_text('{"combinator": "and", "rules": [{"field": "city", "operator": "=", '
                    '"value": "pune"}]}')
    base = ["--db", db_url, "campaign", "send", "--name", "Holi", "--rule", str(rule),
            "--ledger", str(ledger_path), "--retry-seconds", "0.001"]
    # No link in the message and none in the footer: refused, nothing stored or sent.
    assert cli_main([*base, "--message", "Hi {first_name}", "--footer", ""],
                    actor=LOCAL_ADMIN) == 2
    assert "variant A has no {unsubscribe_url}" in capsys.readouterr().err
    assert not ledger_path.exists() or not list(VendorLedger.read_entries(ledger_path))
    assert cli_main([*base, "--message", "Hi {first_name}", "--subject",
                     "For {first_name|you}", "--sender-name", "Holi Shop", "--from",
                     "hello@holi.example", "--vendor-success-rate", "1"],
                    actor=LOCAL_ADMIN) == 0
    campaign_id = json.loads(capsys.readouterr().out)["campaign_id"]
    entry = next(VendorLedger.read_entries(ledger_path, campaign_id))
    assert entry.sender == "Holi Shop <hello@holi.example>"
    assert entry.subject is not None
    assert entry.subject.startswith("For Name")
    assert entry.body is not None
    assert "Unsubscribe: " + UNSUBSCRIBE_BASE in entry.body  # the default footer

    before = counts(population, campaign_id)
    assert cli_main(["--db", db_url, "campaign", "test-send", str(campaign_id), "--to",
                     "me@holi.example", "--ledger", str(ledger_path)], actor=LOCAL_ADMIN) == 0
    out = capsys.readouterr().out
    assert "test A to me@holi.example" in out
    assert "subject: For you" in out
    tests = [e for e in VendorLedger.read_entries(ledger_path, campaign_id) if e.test]
    assert [e.address for e in tests] == ["me@holi.example"]
    assert counts(population, campaign_id) == before
    assert cli_main(["--db", db_url, "campaign", "show", str(campaign_id)],
                    actor=LOCAL_ADMIN) == 0
    shown = capsys.readouterr().out
    assert "Sender:       Holi Shop <hello@holi.example>" in shown
    assert "Test sends:   1" in shown
