"""The fast path for bulk writes: executemany straight through the database driver.

SQLAlchemy's per-value type processing costs more than the insert itself at millions of
rows, so bulk writers hand the driver values already in storage form. Statement text is
built only from our own table and column names; values are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def insert_statement(
    conn: Connection, table: Table, columns: Sequence[str], suffix: str = ""
) -> str:
    prep = conn.dialect.identifier_preparer
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    # A column outside the metadata (an engine-only one: models/engine_only.py) by its name.
    names = ", ".join(prep.quote(table.c[c].name if c in table.c else c) for c in columns)
    values = ", ".join([marker] * len(columns))
    return f"INSERT INTO {prep.format_table(table)} ({names}) VALUES ({values}){suffix}"


def raw_insert(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert positional rows whose values are already in storage form (see below)."""
    if rows:
        conn.exec_driver_sql(insert_statement(conn, table, columns), list(rows))


def raw_upsert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    key: str,
    update: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Insert positional rows; a row whose `key` exists updates the `update` columns."""
    if not rows:
        return
    prep = conn.dialect.identifier_preparer
    if conn.dialect.name == "sqlite":
        if update:
            sets = ", ".join(f"{prep.quote(c)} = excluded.{prep.quote(c)}" for c in update)
            suffix = f" ON CONFLICT ({prep.quote(key)}) DO UPDATE SET {sets}"
        else:
            suffix = f" ON CONFLICT ({prep.quote(key)}) DO NOTHING"
    else:
        # VALUES() works on MariaDB and (deprecated but supported) on MySQL 8.
        targets = update or [key]
        sets = ", ".join(f"{prep.quote(c)} = VALUES({prep.quote(c)})" for c in targets)
        suffix = f" ON DUPLICATE KEY UPDATE {sets}"
    conn.exec_driver_sql(insert_statement(conn, table, columns, suffix), list(rows))


def raw_upsert_changed(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    key: str,
    update: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> int:
    """`raw_upsert` for rows whose `key` exists (as looked up in this transaction): return
    how many of them held other values in the `update` columns, i.e. were changed.

    The engines count for us, so nothing is read back: SQLite skips the update of an equal
    row (a WHERE on DO UPDATE) and counts only rows it changed; MySQL/MariaDB count 2 for a
    changed row and, for an equal one, 1 when the connection has CLIENT_FOUND_ROWS (which
    SQLAlchemy's MySQL dialects set) or else 0.
    """
    if not rows or not update:
        return 0
    prep = conn.dialect.identifier_preparer
    if conn.dialect.name == "sqlite":
        target = prep.format_table(table)
        sets = ", ".join(f"{prep.quote(c)} = excluded.{prep.quote(c)}" for c in update)
        differs = " OR ".join(
            f"{target}.{prep.quote(c)} IS NOT excluded.{prep.quote(c)}" for c in update
        )
        suffix = f" ON CONFLICT ({prep.quote(key)}) DO UPDATE SET {sets} WHERE {differs}"
        result = conn.exec_driver_sql(insert_statement(conn, table, columns, suffix), list(rows))
        return max(0, result.rowcount)
    sets = ", ".join(f"{prep.quote(c)} = VALUES({prep.quote(c)})" for c in update)
    suffix = f" ON DUPLICATE KEY UPDATE {sets}"
    result = conn.exec_driver_sql(insert_statement(conn, table, columns, suffix), list(rows))
    affected = max(0, result.rowcount)
    if found_rows(conn):
        return max(0, affected - len(rows))
    return affected // 2


def found_rows(conn: Connection) -> bool:
    """Whether this MySQL connection counts rows an update matched rather than changed."""
    from pymysql.constants import CLIENT

    flags = getattr(conn.connection.dbapi_connection, "client_flag", None)
    return True if flags is None else bool(flags & CLIENT.FOUND_ROWS)


LOOKUP_CHUNK = 500


def raw_lookup(
    conn: Connection, table: Table, key: str, values: Iterable[Any], *columns: str
) -> dict[Any, tuple[Any, ...]]:
    """Map each of `values` present in `table.key` to the raw stored `columns` of its row."""
    wanted = list(values)
    prep = conn.dialect.identifier_preparer
    selected = ", ".join(prep.quote(c) for c in (key, *columns))
    found: dict[Any, tuple[Any, ...]] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        sql = (
            f"SELECT {selected} FROM {prep.format_table(table)} "
            f"WHERE {prep.quote(key)} IN ({placeholders(conn, len(chunk))})"
        )
        cursor = conn.exec_driver_sql(sql, tuple(chunk)).cursor
        if cursor is None:
            continue
        for row in cursor.fetchall():  # the driver's rows: no per-row result processing
            found[row[0]] = tuple(row[1:])
    return found


def raw_delete_in(conn: Connection, table: Table, key: str, values: Sequence[Any]) -> None:
    """DELETE the rows whose `key` is one of `values`."""
    prep = conn.dialect.identifier_preparer
    for start in range(0, len(values), LOOKUP_CHUNK):
        chunk = values[start : start + LOOKUP_CHUNK]
        conn.exec_driver_sql(
            f"DELETE FROM {prep.format_table(table)} "
            f"WHERE {prep.quote(key)} IN ({placeholders(conn, len(chunk))})",
            tuple(chunk),
        )


@lru_cache(maxsize=64)
def _markers(marker: str, n: int) -> str:
    return ", ".join([marker] * n)


def placeholders(conn: Connection, n: int) -> str:
    return _markers("?" if conn.dialect.paramstyle == "qmark" else "%s", n)


def storage_timestamp(value: datetime | None) -> str | None:
    """An aware datetime as UTCDateTime stores it: naive UTC text both engines accept."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


class EpochFormatter:
    """Whole-second UTC epoch times to storage text, caching each day's date part."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def __call__(self, epoch: int) -> str:
        day = epoch // 86400
        prefix = self._days.get(day)
        if prefix is None:
            prefix = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d ")
            self._days[day] = prefix
        second = epoch - day * 86400
        return f"{prefix}{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000000"
