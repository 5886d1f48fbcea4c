"""The frozen audience holds every recipient's address exactly as stored, in customer order,
across chunks — on SQLite and on MariaDB, where rows travel as JSON both ways
(services/campaigns/frozen_rows.py)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from minicrm_desktop.models.campaign import campaigns_table, deliveries_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.launch import (
    _INSERT_CHUNK,
    DUPLICATE_ADDRESS,
    create_campaign,
    launch_campaign,
)
from minicrm_desktop.services.campaigns.variants import idempotency_key
from tests.campaigns.conftest import draft
from tests.segments.population import Person, insert_people

d = deliveries_table.c
# Characters a JSON or SQL layer could mangle: quotes, backslashes, a 4-byte emoji, accents,
# percent and underscore.
HOSTILE = ("o'brien", 'say"hi', "back\\slash", "smile😀", "zoë", "100%_off", "tab\tcr\r")


def test_chunks_of_long_hostile_addresses_freeze_exactly(engine: Engine) -> None:
    # Over a chunk of ~300-character addresses: more than MariaDB's default 1 MB cut of an
    # aggregate, and a second chunk.
    count = _INSERT_CHUNK + 40
    pad = "x" * 280
    people = [Person(email=f"{HOSTILE[i % len(HOSTILE)]}.{i}.{pad}@example.com",
                     subscribed=i % 11 != 5) for i in range(count)]
    # The same address as an earlier customer, with a space: the later one is skipped.
    people.append(Person(email=f" {people[3].email}"))
    ids = insert_people(engine, people)
    campaign_id = create_campaign(engine, draft(), actor=LOCAL_ADMIN)
    summary = launch_campaign(engine, campaign_id, actor=LOCAL_ADMIN)

    assert summary.audience == count + 1
    with engine.connect() as conn:
        uid = conn.execute(select(campaigns_table.c.uid)
                           .where(campaigns_table.c.id == campaign_id)).scalar_one()
        rows = conn.execute(select(d.id, d.customer_id, d.address, d.status, d.reason,
                                   d.idempotency_key, d.attempts, d.queued_at, d.updated_at)
                            .where(d.campaign_id == campaign_id).order_by(d.id)).all()
    by_id = {i: e for e, i in ids.items()}
    assert [r.customer_id for r in rows] == sorted(ids.values())  # delivery ids follow
    assert all(r.address == by_id[r.customer_id] for r in rows)  # byte for byte
    assert all(r.idempotency_key == idempotency_key(uid, r.customer_id) for r in rows)
    assert all(r.attempts == 0 and r.queued_at == r.updated_at == rows[0].queued_at
               for r in rows)
    outcome = {r.customer_id: (r.status, r.reason) for r in rows}
    assert outcome[ids[people[5].email]] == ("skipped", "unsubscribed")
    assert outcome[ids[people[-1].email]] == ("skipped", DUPLICATE_ADDRESS)
    assert outcome[ids[people[3].email]] == ("queued", None)
    assert sum(status == "queued" for status, _ in outcome.values()) == summary.queued
