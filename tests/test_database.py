"""Opening databases and migrating them, on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from minicrm_desktop.errors import ConfigError, DatabaseUnavailable
from minicrm_desktop.models import Base
from minicrm_desktop.models.engine_only import include_object_for
from minicrm_desktop.services.core.database import (
    SQLITE_CACHE_KIB,
    SQLITE_HEAP_LIMIT,
    check_connection,
    create_db_engine,
    describe_url,
    resolve_database_url,
)
from minicrm_desktop.services.core.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade_to_head,
)
from minicrm_desktop.services.core.schema_version import (
    newest_revision,
    schema_is_current,
    stored_revision,
)


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_object": include_object_for(conn.dialect.name)}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision(engine)


def test_quick_schema_check_agrees_with_alembic(engine: Engine, tmp_path: Path) -> None:
    """The start-up check (one query, no Alembic) must know the same head as Alembic, and
    say "not current" for a new or an older database, so that Alembic then runs."""
    assert newest_revision() == head_revision(engine)
    assert stored_revision(engine) == head_revision(engine)
    assert schema_is_current(engine)
    fresh = create_db_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert stored_revision(fresh) is None
    assert not schema_is_current(fresh)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert not schema_is_current(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"),
                     {"v": head_revision(engine)})
    fresh.dispose()


def test_sqlite_pragmas(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        # Memory: one process-wide cap over every pooled connection's page cache.
        assert conn.exec_driver_sql("PRAGMA soft_heap_limit").scalar() == SQLITE_HEAP_LIMIT
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB


def test_mysql_norm_columns_compare_exactly(mysql_engine: Engine) -> None:
    """The normalized columns must not fold accents or pad spaces as MySQL collations do."""
    with mysql_engine.begin() as conn:
        conn.execute(
            text("INSERT INTO tags (name, name_norm) VALUES ('e', 'e'), ('é', 'é'), ('e ', 'e ')")
        )
        assert conn.execute(text("SELECT COUNT(*) FROM tags WHERE name_norm = 'e'")).scalar() == 1


def test_older_database_is_upgraded_in_place(tmp_path: Path) -> None:
    from alembic import command

    engine = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customers (email, email_norm, signup_date) "
                "VALUES ('a@example.com', 'a@example.com', '2024-01-01 00:00:00.000000')"
            )
        )
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tags (name, name_norm) VALUES ('VIP', 'vip'), ('B', 'b')"))
        conn.execute(text("INSERT INTO customer_tags (customer_id, tag_id) VALUES (1, 2), (1, 1)"))
    upgrade_to_head(engine)
    upgrade_to_head(engine)  # idempotent
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT email FROM customers")).scalar_one() == "a@example.com"
        # Later migrations fill what they add from what was there.
        assert conn.execute(text("SELECT tags_norm FROM customers")).scalar_one() == "|b|vip|"
    assert "customers" in inspect(engine).get_table_names()


def test_resolve_url_order(monkeypatch, tmp_path: Path) -> None:
    default = resolve_database_url(None)
    assert default.get_backend_name() == "sqlite"
    assert str(default.database).endswith("minicrm.db")
    monkeypatch.setenv("MINICRM_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    assert resolve_database_url(None).database == str(tmp_path / "env.db")
    assert resolve_database_url("sqlite:///x.db").database == "x.db"
    with pytest.raises(ConfigError, match="not valid"):
        resolve_database_url("::nonsense::")


def test_describe_hides_password() -> None:
    url = resolve_database_url("mysql+pymysql://crm:pa55word@db.local:3306/crm")
    assert describe_url(url) == "MySQL server db.local:3306/crm"


def test_unreachable_server_is_a_clear_error() -> None:
    engine = create_db_engine("mysql+pymysql://root:topsecret@127.0.0.1:1/crm")
    with pytest.raises(DatabaseUnavailable) as exc:
        check_connection(engine)
    assert "127.0.0.1:1" in str(exc.value)
    assert "topsecret" not in str(exc.value)


def test_batch_migrations_keep_child_rows(engine: Engine) -> None:
    """Stepping back over 0005 copies the customers table (a batch migration on SQLite);
    foreign-key cascades must not empty the tables that point at it."""
    from minicrm_desktop.services.core.migrate import downgrade_to

    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customers (email, email_norm, signup_date, tags_norm) "
                "VALUES ('a@example.com', 'a@example.com', '2024-01-01 00:00:00', '|vip|')"
            )
        )
        conn.execute(text("INSERT INTO tags (name, name_norm) VALUES ('vip', 'vip')"))
        conn.execute(
            text(
                "INSERT INTO customer_tags (customer_id, tag_id) SELECT c.id, t.id "
                "FROM customers c, tags t"
            )
        )
        conn.execute(
            text(
                "INSERT INTO orders (order_id, customer_id, amount_minor, order_date) "
                "SELECT 'o1', id, 100, '2024-01-02 00:00:00' FROM customers"
            )
        )
    downgrade_to(engine, "0004")
    upgrade_to_head(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM customer_tags")).scalar_one() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM orders")).scalar_one() == 1
        assert conn.execute(text("SELECT tags_norm FROM customers")).scalar_one() == "|vip|"
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
