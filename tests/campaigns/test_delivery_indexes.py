"""The delivery log keeps only the indexes a query uses (migration 0021), on SQLite and
MariaDB: one index holds status, id and the retry time, and claims take due rows from it in
id order, a retry in its turn once due. On MariaDB it also holds the outcome time and the
variant (migration 0025), and a campaign's timeline is read from it alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, case, func, insert, inspect, select, update

from minicrm_desktop.models.base import utcnow
from minicrm_desktop.models.campaign import deliveries_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns import claims, store
from minicrm_desktop.services.campaigns.launch import create_campaign, launch_campaign
from minicrm_desktop.services.core.migrate import alembic_config, downgrade_to, upgrade_to_head
from tests.campaigns.conftest import draft

MERGED = ["campaign_id", "status", "id", "next_attempt_at"]
REPORT = [*MERGED, "updated_at", "variant"]  # MySQL/MariaDB since 0025
BEFORE = {
    "ix_deliveries_campaign_id_status_id": ["campaign_id", "status", "id"],
    "ix_deliveries_campaign_id_status_next_attempt_at": [
        "campaign_id", "status", "next_attempt_at"],
    "ix_deliveries_campaign_id_updated_at": ["campaign_id", "updated_at"],
    "ix_deliveries_customer_id_updated_at": ["customer_id", "updated_at"],
}


def indexes(engine: Engine) -> dict[str, list[str]]:
    return {str(ix["name"]): [str(c) for c in ix["column_names"]]
            for ix in inspect(engine).get_indexes("deliveries")}


def test_migration_0021_keeps_the_indexes_queries_use_and_steps_back(engine: Engine) -> None:
    now = indexes(engine)
    mysql = engine.dialect.name != "sqlite"
    assert now["ix_deliveries_campaign_id_status_id_next_attempt_at"] == \
        (REPORT if mysql else MERGED)
    assert not set(BEFORE) & set(now)
    script = ScriptDirectory.from_config(alembic_config(engine))
    before = script.get_revision("0021").down_revision
    assert isinstance(before, str)
    downgrade_to(engine, "0024")
    assert indexes(engine)["ix_deliveries_campaign_id_status_id_next_attempt_at"] == MERGED
    downgrade_to(engine, before)
    back = indexes(engine)
    assert {name: back.get(name) for name in BEFORE} == BEFORE
    assert "ix_deliveries_campaign_id_status_id_next_attempt_at" not in back
    upgrade_to_head(engine)
    assert indexes(engine) == now


def test_claims_take_due_rows_in_id_order_retries_in_their_turn(population: Engine) -> None:
    campaign_id = create_campaign(population, draft(), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    d = deliveries_table.c
    with population.begin() as conn:
        ids = list(conn.execute(select(d.id).where(d.campaign_id == campaign_id,
                                                   d.status == "queued")
                                .order_by(d.id)).scalars())
        assert len(ids) > 10
        # The first row waits for its retry; the second's retry is due.
        now = utcnow()
        conn.execute(update(deliveries_table).where(d.id == ids[0]).values(
            attempts=1, next_attempt_at=now + timedelta(hours=1)))
        conn.execute(update(deliveries_table).where(d.id == ids[1]).values(
            attempts=1, next_attempt_at=now - timedelta(seconds=1)))
    first = store.claim(population, campaign_id, "token-1", 3)
    assert [m.delivery_id for m in first] == ids[1:4]
    rest = store.claim(population, campaign_id, "token-2", len(ids))
    assert [m.delivery_id for m in rest] == ids[4:]
    assert store.claim(population, campaign_id, "token-3", 10) == []
    wait = claims.seconds_until_due(population, campaign_id)
    assert wait is not None
    assert 3000 < wait <= 3600


@pytest.mark.mysql
def test_mariadb_reads_a_campaigns_timeline_from_the_status_index_alone(
        mysql_engine: Engine) -> None:
    """The page's polls while a campaign runs: the first and last outcome time and the
    outcomes per time bucket (stats.outcomes_over_time) touch no table row."""
    upgrade_to_head(mysql_engine)
    campaign_id = create_campaign(mysql_engine, draft(), actor=LOCAL_ADMIN)
    d = deliveries_table.c
    start = utcnow()
    with mysql_engine.begin() as conn:
        conn.execute(insert(deliveries_table), [
            {"campaign_id": campaign_id, "customer_id": i, "address": f"c{i}@example.com",
             "variant": "AB"[i % 2], "status": ("sent", "failed", "queued")[i % 3],
             "attempts": 1, "idempotency_key": f"k{i}", "queued_at": start,
             "updated_at": start + timedelta(seconds=i)} for i in range(3000)])
        conn.exec_driver_sql("ANALYZE TABLE deliveries")
    outcomes = (d.campaign_id == campaign_id, d.status.in_(["sent", "failed"]))
    bucket = case((d.updated_at < start + timedelta(seconds=900), 0), else_=1).label("bucket")
    for statement in (select(func.min(d.updated_at), func.max(d.updated_at)).where(*outcomes),
                      select(bucket, d.status, func.count()).where(*outcomes)
                      .group_by(bucket, d.status)):
        compiled = statement.compile(mysql_engine,
                                     compile_kwargs={"render_postcompile": True})
        with mysql_engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).mappings().all()
        # "Using index" (covering), not "Using index condition" (a row read per entry).
        assert [(row["key"], "Using index" in (row["Extra"] or "").split("; "))
                for row in plan] == \
            [("ix_deliveries_campaign_id_status_id_next_attempt_at", True)], plan
