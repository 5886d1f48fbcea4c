"""Per-customer order aggregates: kept on the customer row, recomputed from the orders.

Every write that changes orders calls `refresh_aggregates` for the customers it touched,
inside the same transaction, so the aggregates are never stale.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from ..models.tables import customers_table, orders_table
from .bulk import placeholders

customers = customers_table
orders = orders_table

_CHUNK = 500
_AGGREGATE = (
    "SELECT customer_id AS cid, SUM(amount_minor) AS total, COUNT(*) AS n, "
    "MIN(order_date) AS first_at, MAX(order_date) AS last_at "
    "FROM orders WHERE customer_id IN ({ids}) GROUP BY customer_id"
)
# The same statement in each engine's UPDATE-with-join syntax.
_UPDATE = {
    "sqlite": "UPDATE customers SET total_spend_minor = a.total, order_count = a.n, "
    "first_order_at = a.first_at, last_order_at = a.last_at "
    "FROM (" + _AGGREGATE + ") AS a WHERE customers.id = a.cid",
    "mysql": "UPDATE customers JOIN (" + _AGGREGATE + ") AS a ON customers.id = a.cid "
    "SET customers.total_spend_minor = a.total, customers.order_count = a.n, "
    "customers.first_order_at = a.first_at, customers.last_order_at = a.last_at",
}


def refresh_aggregates(
    conn: Connection, customer_ids: Collection[int], maybe_empty: Collection[int] = ()
) -> None:
    """Recompute total spend, order count, first and last order of these customers.

    `maybe_empty` names customers who may have no orders left (an order moved away):
    they are reset first, since the grouped update only reaches customers with orders.
    """
    empty = sorted(set(maybe_empty))
    for start in range(0, len(empty), _CHUNK):
        conn.execute(
            update(customers)
            .where(customers.c.id.in_(empty[start : start + _CHUNK]))
            .values(total_spend_minor=0, order_count=0, first_order_at=None, last_order_at=None)
        )
    ids = sorted(set(customer_ids) | set(empty))
    template = _UPDATE["sqlite" if conn.dialect.name == "sqlite" else "mysql"]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        conn.exec_driver_sql(template.format(ids=placeholders(conn, len(chunk))), tuple(chunk))


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
