"""Large imports set secondary indexes aside and always put them back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

import minicrm_desktop.services.bulkload.indexes as indexes
from minicrm_desktop.models.engine_only import MYSQL_INDEX_COLUMNS
from minicrm_desktop.models.tables import customer_tags, customers_table, orders_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.core.migrate import upgrade_to_head
from minicrm_desktop.services.importing import import_customers, import_orders
from minicrm_desktop.services.importing.customers import CUSTOMER_COLUMNS_WRITTEN
from tests.helpers import (
    assert_aggregates_consistent,
    assert_sqlite_shadows_consistent,
    snapshot,
    write_csv,
)


def index_names(engine: Engine) -> set[str]:
    return {str(ix["name"]) for ix in inspect(engine).get_indexes("customers")}


def secondary_names(leading: tuple[str, ...] | None = None) -> set[str]:
    return {str(ix.name) for ix in indexes.secondary_indexes(customers_table, leading)}


def customers_csv(tmp_path: Path, n: int) -> Path:
    rows = "".join(f"user{i}@example.com,City {i % 7},vip,2024-01-01\n" for i in range(n))
    return write_csv(tmp_path / "c.csv", "email,city,tags,signup_date\n" + rows)


@pytest.fixture
def bulk_always(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexes, "BULK_MIN_BYTES", 0)


@pytest.mark.usefixtures("bulk_always")
def test_bulk_import_drops_then_restores(engine: Engine, tmp_path: Path) -> None:
    assert secondary_names() <= index_names(engine)
    during: list[set[str]] = []
    report = import_customers(
        engine,
        customers_csv(tmp_path, 3000),
        batch_size=1000,
        progress=lambda _p: during.append(index_names(engine)),
        actor=LOCAL_ADMIN,
    )
    assert report.imported == 3000
    assert during
    scattered = secondary_names(CUSTOMER_COLUMNS_WRITTEN)
    assert "ix_customers_name_norm" in scattered
    # The signup date's own index (engine-only since migration 0024) goes aside too.
    signup_index = "ix_customers_signup_us" if engine.dialect.name == "sqlite" else (
        "ix_customers_signup_date")
    assert signup_index in index_names(engine)
    scattered.add(signup_index)
    assert all(not (names & scattered) for names in during)
    if engine.dialect.name == "sqlite":
        # Into an empty table every index goes, even those led by aggregates (all zero for
        # new customers): one sort at the end beats appending row by row.
        assert all("ix_customers_spend_consent" not in names for names in during)
    else:
        # InnoDB pays for every index on every row: all of them go, engine-only ones too.
        engine_only = set(MYSQL_INDEX_COLUMNS["customers"])
        assert all(not (names & (secondary_names() | engine_only)) for names in during)
        assert engine_only <= index_names(engine)
    assert secondary_names() <= index_names(engine)
    assert signup_index in index_names(engine)


def test_bulk_and_row_by_row_give_the_same_data(
    sqlite_engine: Engine, mysql_engine: Engine, tmp_path: Path, monkeypatch
) -> None:
    path = customers_csv(tmp_path, 1500)
    orders = write_csv(
        tmp_path / "o.csv",
        "order_id,customer_email,amount,order_date\n"
        + "".join(
            f"O{i},user{i % 1500}@example.com,{i}.5,2025-01-{1 + i % 28:02d}\n" for i in range(4000)
        ),
    )
    import_customers(sqlite_engine, path, actor=LOCAL_ADMIN)
    import_orders(sqlite_engine, orders, actor=LOCAL_ADMIN)
    monkeypatch.setattr(indexes, "BULK_MIN_BYTES", 0)
    import_customers(mysql_engine, path, batch_size=500, actor=LOCAL_ADMIN)
    import_orders(mysql_engine, orders, batch_size=500, actor=LOCAL_ADMIN)
    assert snapshot(sqlite_engine) == snapshot(mysql_engine)
    assert_aggregates_consistent(mysql_engine)


@pytest.mark.usefixtures("bulk_always")
def test_indexes_restored_when_the_import_fails(sqlite_engine: Engine, tmp_path: Path) -> None:
    def explode(_progress: object) -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        import_customers(
            sqlite_engine, customers_csv(tmp_path, 2000), batch_size=500, progress=explode,
                actor=LOCAL_ADMIN
        )
    assert secondary_names() <= index_names(sqlite_engine)


def test_start_up_restores_indexes_an_interrupted_load_left_out(engine: Engine) -> None:
    with engine.begin() as conn:
        for index in indexes.secondary_indexes(customers_table)[:3]:
            index.drop(conn)
    assert not secondary_names() <= index_names(engine)
    upgrade_to_head(engine)
    assert secondary_names() <= index_names(engine)


@pytest.mark.mysql
def test_start_up_restores_the_engine_only_indexes(mysql_engine: Engine) -> None:
    with mysql_engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE customers DROP INDEX ix_customers_email_rev")
    assert "ix_customers_email_rev" not in index_names(mysql_engine)
    assert "ix_customers_email_rev" in indexes.restore_missing_indexes(mysql_engine)
    assert set(MYSQL_INDEX_COLUMNS["customers"]) <= index_names(mysql_engine)


def test_mysql_sets_aside_from_smaller_files(tmp_path: Path) -> None:
    path = customers_csv(tmp_path, 30_000)  # about 1.3 MB
    assert not indexes.worth_setting_aside(path, table_rows=0)
    assert indexes.worth_setting_aside(path, table_rows=0, dialect="mysql")
    assert not indexes.worth_setting_aside(path, table_rows=1_000_000, dialect="mysql")


def test_small_files_next_to_big_tables_stay_row_by_row(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(indexes, "BULK_MIN_BYTES", 10)
    path = customers_csv(tmp_path, 100)
    assert indexes.worth_setting_aside(path, table_rows=0)
    assert indexes.worth_setting_aside(path, table_rows=150)
    assert not indexes.worth_setting_aside(path, table_rows=1_000_000)


def test_both_engines_read_a_file_alike(
    sqlite_engine: Engine, mysql_engine: Engine, tmp_path: Path
) -> None:
    """Batches, progress, rejections and cancelling do not depend on the engine."""
    content = (
        "email,city,visits\n"
        + "".join(f"user{i}@example.com,Pune,{i % 9}\n" for i in range(2500))
        + "broken,Pune,1\nuser7@example.com,Delhi,x\n"
    )
    path = write_csv(tmp_path / "c.csv", content)
    in_process = import_customers(sqlite_engine, path, batch_size=1000, actor=LOCAL_ADMIN)
    seen: list[int] = []
    helper = import_customers(
        mysql_engine, path, batch_size=1000, progress=lambda p: seen.append(p.rows_read),
            actor=LOCAL_ADMIN
    )
    assert (helper.imported, helper.updated) == (in_process.imported, in_process.updated)
    assert helper.rejected == in_process.rejected
    assert [r.line for r in helper.rejected] == [2502, 2503]
    assert seen == [1000, 2000, 2502]
    cancelled = import_customers(
        mysql_engine, path, batch_size=1000, should_cancel=lambda: True, actor=LOCAL_ADMIN
    )
    assert cancelled.cancelled
    assert cancelled.rows_taken == 1000


def test_set_aside_keeps_the_indexes_foreign_keys_need(engine: Engine) -> None:
    """Seeding sets aside the orders and tag-link indexes too; InnoDB refuses to drop the
    one a foreign key relies on, so on MariaDB that one stays and the rest go and return."""
    tables = (customers_table, orders_table, customer_tags)

    def names(table: str) -> set[str]:
        return {str(ix["name"]) for ix in inspect(engine).get_indexes(table)}

    before = {t.name: names(t.name) for t in tables}
    with indexes.indexes_set_aside(engine, tables):
        during = names("orders")
        assert names("customers").isdisjoint(secondary_names())
    fk_led = "ix_orders_customer_id_order_date"
    assert (fk_led in during) == (engine.dialect.name != "sqlite")
    assert {t.name: names(t.name) for t in tables} == before


def test_bulk_load_defers_sqlite_checkpoints_for_its_duration(
    sqlite_engine: Engine,
) -> None:
    def autocheckpoint() -> int:
        with sqlite_engine.connect() as conn:
            return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())

    assert autocheckpoint() == indexes.DEFAULT_WAL_PAGES
    with indexes.indexes_set_aside(sqlite_engine, (customers_table,)):
        assert autocheckpoint() == indexes.BULK_WAL_PAGES
        with sqlite_engine.begin() as conn:  # a load's worth of writes stays in the WAL
            conn.exec_driver_sql(
                "CREATE TABLE filler AS WITH RECURSIVE n(i) AS "
                "(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
                "SELECT i, printf('%.200c', 'x') AS pad FROM n")
    assert autocheckpoint() == indexes.DEFAULT_WAL_PAGES  # normal checkpoints again


@pytest.mark.parametrize("name", ["ix_customers_avg_order_minor", "ix_customers_last_order_us"])
def test_sqlite_aggregate_indexes_are_set_aside_by_loads_that_write_aggregates(
    sqlite_engine: Engine, name: str
) -> None:
    """ix_customers_avg_order_minor (migration 0017) and ix_customers_last_order_us (0019) are
    outside the ORM metadata: loads that write the aggregates set them aside and rebuild
    them; a customer load keeps them; start-up restores them if a load was interrupted."""
    from minicrm_desktop.services.importing.orders import AGGREGATE_COLUMNS

    assert name in index_names(sqlite_engine)
    with indexes.indexes_set_aside(sqlite_engine, (customers_table,), AGGREGATE_COLUMNS):
        assert name not in index_names(sqlite_engine)
    assert name in index_names(sqlite_engine)
    with indexes.indexes_set_aside(sqlite_engine, (customers_table,), CUSTOMER_COLUMNS_WRITTEN):
        assert name in index_names(sqlite_engine)
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    assert name in indexes.restore_missing_indexes(sqlite_engine)
    assert name in index_names(sqlite_engine)


def test_sqlite_signup_index_is_set_aside_by_customer_loads(sqlite_engine: Engine) -> None:
    """ix_customers_signup_us (migration 0024) is outside the ORM metadata: a customer load,
    which writes signup dates, sets it aside and rebuilds it; an orders load keeps it;
    start-up restores it if a load was interrupted. The text index it replaced stays gone."""
    from minicrm_desktop.services.importing.orders import AGGREGATE_COLUMNS

    name = "ix_customers_signup_us"
    assert name in index_names(sqlite_engine)
    assert "ix_customers_signup_date" not in index_names(sqlite_engine)
    with indexes.indexes_set_aside(sqlite_engine, (customers_table,), CUSTOMER_COLUMNS_WRITTEN):
        assert name not in index_names(sqlite_engine)
    assert name in index_names(sqlite_engine)
    with indexes.indexes_set_aside(sqlite_engine, (customers_table,), AGGREGATE_COLUMNS):
        assert name in index_names(sqlite_engine)
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    assert indexes.restore_missing_indexes(sqlite_engine) == [name]
    assert "ix_customers_signup_date" not in index_names(sqlite_engine)


def test_mysql_keeps_its_signup_date_index(mysql_engine: Engine) -> None:
    """MySQL/MariaDB keep ix_customers_signup_date (engine-only since migration 0024), and
    start-up restores it like the ORM's."""
    assert "ix_customers_signup_date" in index_names(mysql_engine)
    with mysql_engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_customers_signup_date ON customers")
    assert "ix_customers_signup_date" in indexes.restore_missing_indexes(mysql_engine)
    assert "ix_customers_signup_date" in index_names(mysql_engine)


def trigger_sql(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())


def test_insert_triggers_registry_matches_the_migrations(sqlite_engine: Engine) -> None:
    """Start-up recreates a set-aside trigger from the registry: the migrations' own text."""
    from minicrm_desktop.models.engine_only import SQLITE_INSERT_TRIGGERS

    found = trigger_sql(sqlite_engine)
    for trigger in SQLITE_INSERT_TRIGGERS:
        assert found[trigger.name] == trigger.create_sql


@pytest.mark.usefixtures("bulk_always")
def test_customer_load_sets_insert_triggers_aside_and_keeps_them_right(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """A bulk customer load runs without the insert triggers (its rows need no correcting)
    and recreates them, correcting rows others inserted meanwhile; the update triggers stay.
    """
    from minicrm_desktop.models.engine_only import SQLITE_INSERT_TRIGGERS

    inserts = {t.name for t in SQLITE_INSERT_TRIGGERS}
    before = trigger_sql(sqlite_engine)
    during: list[set[str]] = []

    def meanwhile(_progress: object) -> None:
        during.append(set(trigger_sql(sqlite_engine)))
        if len(during) == 1:  # another writer inserts a customer with orders meanwhile
            with sqlite_engine.begin() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO customers (email, email_norm, signup_date, order_count, "
                    "total_spend_minor, last_order_at) VALUES ('o@x.io', 'o@x.io', "
                    "'2024-01-01 00:00:00.000000', 3, 1000, '2024-05-01 10:00:00.250000')")

    report = import_customers(sqlite_engine, customers_csv(tmp_path, 3000), batch_size=1000,
                              progress=meanwhile, actor=LOCAL_ADMIN)
    assert report.imported == 3000
    assert during
    assert all(not (names & inserts) for names in during)
    assert all(set(before) - inserts <= names for names in during)
    assert trigger_sql(sqlite_engine) == before
    with sqlite_engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT avg_order_minor, last_order_us FROM customers "
                                   "WHERE email_norm = 'o@x.io'").one()
    assert tuple(row) == (333, 1714557600250000)
    assert_sqlite_shadows_consistent(sqlite_engine)


def test_start_up_restores_insert_triggers_an_interrupted_load_left_out(
    sqlite_engine: Engine,
) -> None:
    from minicrm_desktop.models.engine_only import SQLITE_INSERT_TRIGGERS

    before = trigger_sql(sqlite_engine)
    with sqlite_engine.begin() as conn:
        for trigger in SQLITE_INSERT_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER {trigger.name}")
        conn.exec_driver_sql(
            "INSERT INTO customers (email, email_norm, signup_date, order_count, "
            "total_spend_minor) VALUES ('o@x.io', 'o@x.io', '2024-01-01 00:00:00.000000', 2, 9)")
    restored = indexes.restore_missing_indexes(sqlite_engine)
    assert {t.name for t in SQLITE_INSERT_TRIGGERS} <= set(restored)
    assert trigger_sql(sqlite_engine) == before
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT avg_order_minor FROM customers").scalar() == 4


@pytest.mark.usefixtures("bulk_always")
def test_sqlite_load_into_a_populated_table_keeps_the_indexes_it_only_appends_to(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Indexes led by aggregates (all zero for new customers, untouched for existing ones)
    stay while a large file loads next to customers already there."""
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO customers (email, email_norm, signup_date) VALUES "
                             "('a@x.io', 'a@x.io', '2024-01-01 00:00:00.000000')")
    during: list[set[str]] = []
    import_customers(sqlite_engine, customers_csv(tmp_path, 3000), batch_size=1000,
                     progress=lambda _p: during.append(index_names(sqlite_engine)),
                     actor=LOCAL_ADMIN)
    assert during
    assert all("ix_customers_spend_consent" in names for names in during)
    assert all(not (names & secondary_names(CUSTOMER_COLUMNS_WRITTEN)) for names in during)
    assert secondary_names() <= index_names(sqlite_engine)
