"""Per-customer order aggregates: kept on the customer row, recomputed from the orders.

Every write that changes orders calls `refresh_aggregates` for the customers it touched,
inside the same transaction, so the aggregates are never stale.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from minicrm_desktop.models.engine_only import (
    AVG_ORDER_COLUMN,
    LAST_ORDER_US_COLUMN,
    SIGNUP_US_COLUMN,
    sqlite_average,
    sqlite_instant,
)
from minicrm_desktop.models.tables import customers_table, orders_table
from minicrm_desktop.services.bulkload.bulk import placeholders

customers = customers_table
orders = orders_table

_CHUNK = 500
_AGGREGATE = (
    "SELECT customer_id, SUM(amount_minor), COUNT(*), MIN(order_date), MAX(order_date) "
    "FROM orders WHERE customer_id IN ({ids}) GROUP BY customer_id"
)
_UPDATE = (
    "UPDATE customers SET total_spend_minor = {p}, order_count = {p}, first_order_at = {p}, "
    "last_order_at = {p}{extra} WHERE id = {p}"
)
# SQLite stores the truncated average (migration 0017) and the last order as an integer
# (0019), in this order; set by their writers, their triggers have no work.
_SQLITE_STORED = (AVG_ORDER_COLUMN, LAST_ORDER_US_COLUMN)


def refresh_aggregates(
    conn: Connection, customer_ids: Collection[int], maybe_empty: Collection[int] = ()
) -> None:
    """Recompute total spend, order count, first and last order of these customers.

    A grouped read over the orders index, then an update of each customer by primary
    key: the same plan on every engine, touching (and locking) only these customers.
    `maybe_empty` names customers who may have no orders left (an order moved away).
    """
    ids = sorted(set(customer_ids) | set(maybe_empty))
    p = placeholders(conn, 1)
    stored = sqlite_stored_columns(conn)
    update_sql = _UPDATE.format(p=p, extra="".join(f", {c} = {p}" for c in stored))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        sql = _AGGREGATE.format(ids=placeholders(conn, len(chunk)))
        cursor = conn.exec_driver_sql(sql, tuple(chunk)).cursor
        found = {row[0]: row for row in (cursor.fetchall() if cursor is not None else [])}
        rows: list[tuple[Any, ...]] = [
            (row[1], row[2], row[3], row[4], cid)
            if (row := found.get(cid))
            else (0, 0, None, None, cid)
            for cid in chunk
        ]
        if stored:
            rows = [(*r[:4], *sqlite_stored_values(stored, r[0], r[1], r[3]), r[4])
                    for r in rows]
        conn.exec_driver_sql(update_sql, rows)


def sqlite_stored_columns(conn: Connection) -> tuple[str, ...]:
    """The SQLite-only stored columns this database has, in the order of
    `sqlite_stored_values`: avg_order_minor (migration 0017), last_order_us (0019). A
    database opened at an older revision, as during an upgrade, lacks them: its triggers
    then set nothing, and writers must not name them."""
    if conn.dialect.name != "sqlite":
        return ()
    columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(customers)")}
    return tuple(c for c in _SQLITE_STORED if c in columns)


def sqlite_signup_stored(conn: Connection) -> bool:
    """Whether writers of signup_date should also write signup_us (SQLite since migration
    0024; `sqlite_instant` gives its value). Its triggers correct any writer that does not,
    at the cost of an UPDATE per row."""
    if conn.dialect.name != "sqlite":
        return False
    return any(row[1] == SIGNUP_US_COLUMN
               for row in conn.exec_driver_sql("PRAGMA table_info(customers)"))


def sqlite_stored_values(
    stored: tuple[str, ...], total: Any, count: Any, last_order_at: Any
) -> tuple[Any, ...]:
    """The values of the `stored` columns for a customer's aggregates."""
    return tuple(sqlite_average(int(total), int(count)) if column == AVG_ORDER_COLUMN
                 else sqlite_instant(last_order_at) for column in stored)


@dataclass(frozen=True)
class AggregateRow:
    customer_id: int
    total_spend_minor: int
    order_count: int
    first_order_at: datetime | None
    last_order_at: datetime | None


def stored_aggregates(conn: Connection) -> dict[int, AggregateRow]:
    rows = conn.execute(
        select(
            customers.c.id,
            customers.c.total_spend_minor,
            customers.c.order_count,
            customers.c.first_order_at,
            customers.c.last_order_at,
        )
    )
    return {r[0]: AggregateRow(*r) for r in rows}


def recomputed_aggregates(conn: Connection) -> dict[int, AggregateRow]:
    """The aggregates as a GROUP BY over every order would give them (slow; for checks)."""
    result = {cid: AggregateRow(cid, 0, 0, None, None) for cid in stored_aggregates(conn)}
    rows = conn.execute(
        select(
            orders.c.customer_id,
            func.sum(orders.c.amount_minor),
            func.count(),
            func.min(orders.c.order_date),
            func.max(orders.c.order_date),
        ).group_by(orders.c.customer_id)
    )
    for cid, total, n, first, last in rows:
        result[cid] = AggregateRow(cid, int(total), int(n), first, last)
    return result
