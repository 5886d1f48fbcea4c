"""Bulk insert-or-update in one statement per batch, on SQLite and MySQL/MariaDB."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects import mysql, sqlite


def upsert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: str,
    update: Iterable[str],
) -> None:
    """Insert `rows`; a row whose `key` exists updates the `update` columns instead."""
    if not rows:
        return
    update = list(update)
    if conn.dialect.name == "sqlite":
        lite = sqlite.insert(table)
        if update:
            stmt = lite.on_conflict_do_update(
                index_elements=[key], set_={c: lite.excluded[c] for c in update}
            )
        else:
            stmt = lite.on_conflict_do_nothing(index_elements=[key])
        conn.execute(stmt, list(rows))
        return
    my = mysql.insert(table)
    # MySQL has no DO NOTHING: assigning the key to itself is the idiom.
    assignments = {c: my.inserted[c] for c in update} or {key: table.c[key]}
    conn.execute(my.on_duplicate_key_update(assignments), list(rows))


def existing_keys(
    conn: Connection, table: Table, key: str, values: Iterable[Any], *columns: str
) -> dict[Any, tuple[Any, ...]]:
    """Map each of `values` present in `table.key` to the requested columns of its row."""
    wanted = list(values)
    found: dict[Any, tuple[Any, ...]] = {}
    key_col = table.c[key]
    cols = [table.c[c] for c in columns]
    # Chunks keep the statement under every engine's bound-parameter limit.
    for start in range(0, len(wanted), 2000):
        chunk = wanted[start : start + 2000]
        for row in conn.execute(select(key_col, *cols).where(key_col.in_(chunk))):
            found[row[0]] = tuple(row[1:])
    return found


def count_rows(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
