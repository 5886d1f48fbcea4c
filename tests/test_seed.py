"""Demo data: reproducible, realistic, with exact aggregates."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, text

from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.customers.seed import seed_demo_data
from tests.helpers import assert_aggregates_consistent, assert_tags_consistent, snapshot

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)


def test_same_seed_same_data(sqlite_engine: Engine, mysql_engine: Engine) -> None:
    a = seed_demo_data(sqlite_engine, 300, seed=11, anchor=ANCHOR, actor=LOCAL_ADMIN)
    b = seed_demo_data(mysql_engine, 300, seed=11, anchor=ANCHOR, actor=LOCAL_ADMIN)
    assert a == b
    assert snapshot(sqlite_engine) == snapshot(mysql_engine)


def test_different_seed_different_data(sqlite_engine: Engine, tmp_path) -> None:
    from minicrm_desktop.services.core.database import create_db_engine
    from minicrm_desktop.services.core.migrate import upgrade_to_head

    other = create_db_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade_to_head(other)
    seed_demo_data(sqlite_engine, 50, seed=1, anchor=ANCHOR, actor=LOCAL_ADMIN)
    seed_demo_data(other, 50, seed=2, anchor=ANCHOR, actor=LOCAL_ADMIN)
    assert snapshot(sqlite_engine) != snapshot(other)


def test_realistic_and_consistent(engine: Engine) -> None:
    report = seed_demo_data(engine, 2000, seed=5, anchor=ANCHOR, actor=LOCAL_ADMIN)
    assert report.customers == 2000
    assert 7000 < report.orders < 13000
    assert_aggregates_consistent(engine)
    assert_tags_consistent(engine)
    with engine.connect() as conn:

        def scalar(sql: str) -> float:
            return float(conn.execute(text(sql)).scalar_one())

        no_orders = scalar("SELECT COUNT(*) FROM customers WHERE order_count = 0")
        assert 200 < no_orders < 400  # about 15% never ordered
        subscribed = scalar("SELECT AVG(subscribed) FROM customers")
        assert 0.8 < subscribed < 0.92
        assert scalar("SELECT COUNT(DISTINCT city_norm) FROM customers") >= 15
        assert scalar("SELECT COUNT(*) FROM customers WHERE city_norm = 'münchen'") > 0
        # Long tail: the top 10% of spenders hold a large share of all spend.
        spends = sorted(
            (r[0] for r in conn.execute(text("SELECT total_spend_minor FROM customers"))),
            reverse=True,
        )
        assert sum(spends[:200]) > 0.35 * sum(spends)
        # Orders span three years before the anchor and never lie after it.
        first = conn.execute(text("SELECT MIN(order_date), MAX(order_date) FROM orders")).one()
        assert str(first[0]) >= "2023-06-0"
        assert str(first[1]) <= "2026-06-01"
        assert scalar("SELECT COUNT(DISTINCT email_norm) FROM customers") == 2000


def test_seed_appends_with_unique_keys(sqlite_engine: Engine) -> None:
    seed_demo_data(sqlite_engine, 100, seed=1, anchor=ANCHOR, actor=LOCAL_ADMIN)
    seed_demo_data(sqlite_engine, 100, seed=1, anchor=ANCHOR, actor=LOCAL_ADMIN)
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM customers")).scalar_one() == 200
    assert_aggregates_consistent(sqlite_engine)


def test_progress_and_cancel(sqlite_engine: Engine, monkeypatch) -> None:
    import minicrm_desktop.services.customers.seed as seed_module

    monkeypatch.setattr(seed_module, "SEED_BATCH", 100)
    seen: list[tuple[int, int]] = []
    report = seed_demo_data(
        sqlite_engine,
        1000,
        anchor=ANCHOR,
        progress=lambda d, t: seen.append((d, t)),
        should_cancel=lambda: len(seen) >= 3,
        actor=LOCAL_ADMIN,
    )
    assert report.cancelled
    assert report.customers == 300
    assert seen == [(100, 1000), (200, 1000), (300, 1000)]


def test_helper_process_gives_the_same_data(sqlite_engine: Engine, tmp_path, monkeypatch) -> None:
    """Large runs generate in a helper process; the rows must not depend on that."""
    import minicrm_desktop.services.customers.seed as seed_module
    from minicrm_desktop.services.core.database import create_db_engine
    from minicrm_desktop.services.core.migrate import upgrade_to_head

    other = create_db_engine(f"sqlite:///{tmp_path / 'parallel.db'}")
    upgrade_to_head(other)
    seed_demo_data(sqlite_engine, 450, seed=4, anchor=ANCHOR, actor=LOCAL_ADMIN)
    monkeypatch.setattr(seed_module, "PARALLEL_THRESHOLD", 100)
    monkeypatch.setattr(seed_module, "SEED_BATCH", 200)
    seen: list[int] = []
    report = seed_demo_data(other, 450, seed=4, anchor=ANCHOR, progress=lambda d, _: seen.append(d),
        actor=LOCAL_ADMIN)
    assert seen == [200, 400, 450]
    assert report.customers == 450
    assert snapshot(other) == snapshot(sqlite_engine)
    assert_aggregates_consistent(other)


def test_large_seed_builds_indexes_at_the_end(sqlite_engine: Engine, monkeypatch) -> None:
    from sqlalchemy import inspect

    import minicrm_desktop.services.customers.seed as seed_module
    from minicrm_desktop.models.tables import customers_table

    def names() -> set[str]:
        return {str(ix["name"]) for ix in inspect(sqlite_engine).get_indexes("customers")}

    wanted = {str(ix.name) for ix in customers_table.indexes if not ix.unique}
    monkeypatch.setattr(seed_module, "BULK_SEED", 100)
    monkeypatch.setattr(seed_module, "SEED_BATCH", 100)
    during: list[set[str]] = []
    seed_demo_data(sqlite_engine, 300, anchor=ANCHOR, progress=lambda *_: during.append(names()),
        actor=LOCAL_ADMIN)
    assert during
    assert all(not (n & wanted) for n in during)
    assert wanted <= names()
    assert_aggregates_consistent(sqlite_engine)
