"""Steps the engine-only index migrations share (migrations/versions/0020-0027). Each runs
on one engine only, and finds its index in either state: a bulk load may have set it aside
and start-up restored it (models/engine_only.py), or an account allowed to alter customers
may have dropped it in a downgrade the database then refused."""

from __future__ import annotations

from sqlalchemy import Connection


def is_mysql(conn: Connection) -> bool:
    return conn.dialect.name in ("mysql", "mariadb")


def is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def mysql_index_columns(conn: Connection, table: str, name: str) -> list[str]:
    """The index's columns in order (MySQL/MariaDB); none when it is absent."""
    return [str(c) for c in conn.exec_driver_sql(
        "SELECT column_name FROM information_schema.statistics WHERE table_schema = DATABASE()"
        " AND table_name = %s AND index_name = %s ORDER BY seq_in_index", (table, name)
    ).scalars()]


def create_mysql_index(conn: Connection, table: str, name: str, columns: str) -> None:
    """CREATE INDEX name ON table (columns), unless an index of that name is there."""
    if not mysql_index_columns(conn, table, name):
        conn.exec_driver_sql(f"CREATE INDEX {name} ON {table} ({columns})")


def drop_mysql_index(conn: Connection, table: str, name: str) -> None:
    """DROP INDEX name ON table, if it is there."""
    if mysql_index_columns(conn, table, name):
        conn.exec_driver_sql(f"DROP INDEX {name} ON {table}")


def analyze_sqlite_index(conn: Connection, name: str) -> None:
    """Statistics for a new index where the planner has them for the others (it picks some
    indexes, and skip-scans them, only with statistics)."""
    analyzed = conn.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar()
    if analyzed:
        conn.exec_driver_sql(f"ANALYZE {name}")
