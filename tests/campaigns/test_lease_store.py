"""The lease's database steps, on SQLite and MariaDB: who may claim, who may requeue."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, update

from minicrm_desktop.models.campaign import campaigns_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns import store
from minicrm_desktop.services.campaigns.launch import create_campaign, launch_campaign
from tests.campaigns.conftest import draft
from tests.campaigns.processes import count_in

A, B = "host-a pid 1 since 09:00:00", "host-b pid 2 since 09:00:01"


def expire(engine: Engine, campaign_id: int) -> None:
    """Put the lease's expiry in the past on the database's clock."""
    with engine.begin() as conn:
        past = store.db_now(conn).replace(year=2000)
        conn.execute(update(campaigns_table).where(campaigns_table.c.id == campaign_id)
                     .values(lease_expires_at=past))


def test_a_live_lease_keeps_others_out_until_it_expires(population: Engine) -> None:
    campaign_id = create_campaign(population, draft(), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    assert store.acquire_lease(population, campaign_id, A, 30).acquired
    claimed = store.claim(population, campaign_id, "token-a", 20, owner=A)
    assert len(claimed) == 20

    # Another process: refused, told who holds it; its claims and requeues change nothing.
    grant = store.acquire_lease(population, campaign_id, B, 30)
    assert (grant.acquired, grant.holder) == (False, A)
    with pytest.raises(store.LeaseLost):
        store.claim(population, campaign_id, "token-b", 20, owner=B)
    assert store.release_abandoned(population, campaign_id) == 0  # what every app start does
    assert count_in(population, campaign_id, "sending") == 20
    assert store.renew_lease(population, campaign_id, B, 30) is None
    assert store.renew_lease(population, campaign_id, A, 30) == "running"
    assert store.delivery_state(population, campaign_id).owner == A  # type: ignore[union-attr]

    # Expired: the next owner takes it, and the dead owner's claims go back to the queue.
    expire(population, campaign_id)
    assert store.delivery_state(population, campaign_id).owner is None  # type: ignore[union-attr]
    with pytest.raises(store.LeaseLost):
        store.claim(population, campaign_id, "token-a2", 20, owner=A)
    grant = store.acquire_lease(population, campaign_id, B, 30)
    assert (grant.acquired, grant.requeued) == (True, 20)
    assert count_in(population, campaign_id, "sending") == 0
    assert store.renew_lease(population, campaign_id, A, 30) is None  # A learns it lost
    assert len(store.claim(population, campaign_id, "token-b", 20, owner=B)) == 20

    # Finishing gives the lease up; a paused campaign cannot be leased.
    store.finish_if_done(population, campaign_id, B)
    assert store.delivery_state(population, campaign_id).owner is None  # type: ignore[union-attr]
    assert store.pause_for_fault(population, campaign_id, A, "database error: x") == "paused"
    state = store.delivery_state(population, campaign_id)
    assert state is not None
    assert (state.counts.status, state.reason) == ("paused", "database error: x")
    assert store.acquire_lease(population, campaign_id, A, 30).acquired is False
