"""Recording outcomes in batches, on SQLite and MariaDB: only rows still under the sender's
claim take an outcome, and the campaign's counters move exactly with the log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from minicrm_desktop.models.base import utcnow
from minicrm_desktop.models.campaign import campaigns_table, deliveries_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns import outcomes, store
from minicrm_desktop.services.campaigns.events import DeliveryEvent
from minicrm_desktop.services.campaigns.launch import create_campaign, launch_campaign
from tests.campaigns.conftest import draft

KINDS = ("sent", "failed", "queued")


def events_for(campaign_id: int, claimed: list[store.ClaimedMessage],
               claim: str) -> list[DeliveryEvent]:
    now = utcnow()
    return [
        DeliveryEvent(campaign_id, m.delivery_id, m.customer_id, m.variant, claim,
                      KINDS[i % 3], None if i % 3 == 0 else f"reason {i}", 1, now,
                      now + timedelta(seconds=5) if i % 3 == 2 else None,
                      i % 2 == 0 if i % 3 == 0 else None)
        for i, m in enumerate(claimed)
    ]


def apply(engine: Engine, events: list[DeliveryEvent]) -> dict[int, tuple[int, int]]:
    with engine.begin() as conn:
        return outcomes.apply_events(conn, events)


def test_outcomes_are_recorded_only_under_the_current_claim(
        population: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outcomes, "STATEMENT_ROWS", 7)  # several statements per kind
    campaign_id = create_campaign(population, draft(), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    claimed = store.claim(population, campaign_id, "token-now", 1000)
    assert len(claimed) > 100
    mine = events_for(campaign_id, claimed, "token-now")

    # Outcomes sent under an older claim (a run that lost its lease) change nothing.
    assert apply(population, events_for(campaign_id, claimed, "token-old")) == {}
    assert store.counts(population, campaign_id).sent == 0  # type: ignore[union-attr]

    sent = sum(e.status == "sent" for e in mine)
    failed = sum(e.status == "failed" for e in mine)
    assert apply(population, mine) == {campaign_id: (sent, failed)}
    counts = store.counts(population, campaign_id)
    assert counts is not None
    assert (counts.sent, counts.failed) == (sent, failed)
    d = deliveries_table.c
    with population.connect() as conn:
        rows = {r.id: r for r in conn.execute(
            select(d.id, d.status, d.reason, d.attempts, d.claim, d.next_attempt_at, d.opened)
            .where(d.campaign_id == campaign_id, d.id.in_([e.delivery_id for e in mine])))}
    for e in mine:
        row = rows[e.delivery_id]
        assert (row.status, row.reason, row.attempts, row.claim) == (
            e.status, e.reason, 1, None)
        assert (row.next_attempt_at is not None) == (e.status == "queued")
        assert row.opened == e.opened

    # The same outcomes again (a retried flush): the rows are no longer `sending`.
    assert apply(population, mine) == {}
    with population.connect() as conn:
        c = campaigns_table.c
        again = conn.execute(select(c.sent, c.failed).where(c.id == campaign_id)).one()
    assert tuple(again) == (sent, failed)
