"""Recording outcomes in batches, on SQLite and MariaDB: only rows still under the sender's
claim take an outcome, and the campaign's counters move exactly with the log."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update

from minicrm_desktop.models.base import utcnow
from minicrm_desktop.models.campaign import campaigns_table, deliveries_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns import outcomes, store
from minicrm_desktop.services.campaigns.events import DeliveryEvent
from minicrm_desktop.services.campaigns.launch import create_campaign, launch_campaign
from tests.campaigns.conftest import draft
from tests.campaigns.processes import count_in

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


def test_outcomes_and_the_next_claim_share_one_transaction(population: Engine) -> None:
    """record_and_claim: the outcomes go in before the claim reads the queue; without the
    lease the outcomes are still recorded (each under its own claim) and nothing is claimed."""
    from tests.campaigns.test_lease_store import A, B, expire

    campaign_id = create_campaign(population, draft(), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    assert store.acquire_lease(population, campaign_id, A, 30).acquired
    first = store.claim(population, campaign_id, "token-1", 30, owner=A)
    mine = events_for(campaign_id, first, "token-1")
    # A retry due at once: the claim in the same transaction takes it again.
    due = [e for e in mine if e.status == "queued"][0]
    mine = [replace(e, retry_at=utcnow() - timedelta(seconds=1)) if e is due else e
            for e in mine]
    sent = sum(e.status == "sent" for e in mine)
    failed = sum(e.status == "failed" for e in mine)
    queued_before = store.queued_count(population, campaign_id)

    snapshots, claimed = store.record_and_claim(
        population, mine, [campaign_id], campaign_id, "token-2", 10_000, A)
    assert claimed is not None
    assert due.delivery_id in {m.delivery_id for m in claimed}
    # Everything queued was claimed: the due retry and the queue, not the later retries.
    later = sum(e.status == "queued" for e in mine) - 1
    assert len(claimed) == queued_before + 1
    assert [(s.sent, s.failed) for s in snapshots if s is not None] == [(sent, failed)]
    assert store.queued_count(population, campaign_id) == later

    # The lease is lost: the second chunk's outcomes are recorded, nothing more is claimed.
    expire(population, campaign_id)
    assert store.acquire_lease(population, campaign_id, B, 30).acquired  # requeues token-2
    theirs = store.claim(population, campaign_id, "token-b", 5, owner=B)
    late = events_for(campaign_id, claimed, "token-2")
    snapshots, none = store.record_and_claim(
        population, late, [campaign_id], campaign_id, "token-3", 10, A)
    assert none is None
    counts = store.counts(population, campaign_id)
    assert counts is not None
    assert (counts.sent, counts.failed) == (sent, failed)
    assert count_in(population, campaign_id, "sending") == len(theirs)


def test_a_claim_reads_its_messages_as_a_plain_read_does(population: Engine) -> None:
    """A claim reads its rows as one JSON row (both engines): the same messages as a plain
    SQLAlchemy read of the claimed rows, times as aware times."""
    from sqlalchemy import select

    from minicrm_desktop.models.campaign import deliveries_table
    from minicrm_desktop.models.tables import customers_table
    from minicrm_desktop.services.campaigns import claims

    d, cust = deliveries_table.c, customers_table.c

    when = utcnow().replace(microsecond=123456)
    with population.begin() as conn:
        # Text JSON must carry as it is: quotes, a backslash, accents, an emoji.
        conn.execute(update(customers_table).values(last_order_at=when,
                                                    name='Zoë "Q" \\ 😀 Øst'))
    campaign_id = create_campaign(population, draft(), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    claimed = store.claim(population, campaign_id, "token-json", 50)
    ids = [m.delivery_id for m in claimed]
    assert len(ids) == 50
    assert ids == sorted(ids)
    with population.connect() as conn:
        read = conn.execute(
            select(d.id, d.customer_id, d.address, d.variant, d.attempts, d.idempotency_key,
                   cust.name, cust.email, cust.city, cust.total_spend_minor, cust.last_order_at)
            .join_from(deliveries_table, customers_table, cust.id == d.customer_id)
            .where(d.claim == "token-json", d.status == "sending").order_by(d.id)).all()
    # A claimed row carries the time as ISO text (claims.ClaimedRow).
    plain = claims.messages([[*row[:-1], None if row[-1] is None else row[-1].isoformat()]
                             for row in read])
    assert claimed == plain
    assert {m.customer["last_order_at"] for m in claimed} == {when}
    assert {m.customer["name"] for m in claimed} == {'Zoë "Q" \\ 😀 Øst'}


def test_recording_and_claiming_takes_few_statements_and_counts_every_campaign(
        population: Engine) -> None:
    """Each statement of the writer's transaction lets go of the GIL and waits to get it
    back: on SQLite the lease check, the counters and their read-back are one statement, and
    a claim is two (take, read). Outcomes of another campaign in the same batch still move
    that campaign's counters."""
    from sqlalchemy import event

    from tests.campaigns.test_lease_store import A

    ids = []
    for _ in range(2):
        campaign_id = create_campaign(population, draft(), actor=LOCAL_ADMIN)
        launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
        ids.append(campaign_id)
    mine, other = ids
    assert store.acquire_lease(population, mine, A, 30).acquired
    first = store.claim(population, mine, "token-1", 30, owner=A)
    elsewhere = store.claim(population, other, "token-x", 30)
    batch = [*events_for(mine, first, "token-1"), *events_for(other, elsewhere, "token-x")]

    statements: list[str] = []

    def seen(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql)

    event.listen(population, "before_cursor_execute", seen)
    try:
        snapshots, claimed = store.record_and_claim(
            population, batch, [mine, other], mine, "token-2", 10, A)
    finally:
        event.remove(population, "before_cursor_execute", seen)
    assert claimed is not None
    assert len(claimed) == 10
    assert {m.delivery_id for m in claimed}.isdisjoint(m.delivery_id for m in first)
    for campaign_id, events in ((mine, batch[:len(first)]), (other, batch[len(first):])):
        sent = sum(e.status == "sent" for e in events)
        failed = sum(e.status == "failed" for e in events)
        counts = store.counts(population, campaign_id)
        assert counts is not None
        assert (counts.sent, counts.failed) == (sent, failed)
        assert [(s.sent, s.failed) for s in snapshots
                if s is not None and s.campaign_id == campaign_id] == [(sent, failed)]
    if population.dialect.name == "sqlite":
        # Outcomes: 3 kinds x 2 campaigns (apply_events uses the raw cursor: not seen here);
        # then the other campaign's counters, ours with the lease check, the other's read,
        # the claim's take and read.
        assert len(statements) == 5, statements


def test_a_batch_with_stale_claims_moves_the_counters_by_what_it_recorded(
        population: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer's record-and-claim with one campaign's batch, part of it under claims no
    longer held: the counters move by exactly the rows that took their outcome, and those
    rows hold it."""
    monkeypatch.setattr(outcomes, "STATEMENT_ROWS", 7)  # several statements per kind
    campaign_id = create_campaign(population, draft(), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    assert store.acquire_lease(population, campaign_id, "A", 30).acquired
    claimed = store.claim(population, campaign_id, "token-1", 40, owner="A")
    stolen = {m.delivery_id for m in claimed[::3]}
    d = deliveries_table.c
    with population.begin() as conn:  # another claim took these meanwhile
        conn.execute(update(deliveries_table).where(d.id.in_(stolen)).values(claim="other"))
    batch = events_for(campaign_id, claimed, "token-1")
    kept = [e for e in batch if e.delivery_id not in stolen]
    snapshots, rows = store.record_and_take(
        population, batch, [campaign_id], campaign_id, "token-2", 5, "A")
    assert rows is not None
    assert len(rows) == 5
    expected = (sum(e.status == "sent" for e in kept), sum(e.status == "failed" for e in kept))
    assert [(s.sent, s.failed) for s in snapshots if s is not None] == [expected]
    counts = store.counts(population, campaign_id)
    assert counts is not None
    assert (counts.sent, counts.failed) == expected
    with population.connect() as conn:
        found = dict(conn.execute(select(d.id, d.status).where(
            d.id.in_([m.delivery_id for m in claimed]))).all())
    assert {i: s for i, s in found.items() if i not in stolen} == {
        e.delivery_id: e.status for e in kept}
    assert {found[i] for i in stolen} == {"sending"}
