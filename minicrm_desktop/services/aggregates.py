"""Per-customer order aggregates: kept on the customer row, recomputed from the orders.

Every write that changes orders calls `refresh_aggregates` for the customers it touched,
inside the same transaction, so the aggregates are never stale.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from ..models import Customer, Order

customers = Customer.__table__
orders = Order.__table__

_CHUNK = 2000


def refresh_aggregates(conn: Connection, customer_ids: Collection[int]) -> None:
    """Recompute total spend, order count, first and last order of these customers."""
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        # Reset first: a customer whose last order moved away has no group below.
        conn.execute(
            update(customers)
            .where(customers.c.id.in_(chunk))
            .values(total_spend_minor=0, order_count=0, first_order_at=None, last_order_at=None)
        )
        agg = (
            select(
                orders.c.customer_id.label("cid"),
                func.sum(orders.c.amount_minor).label("total"),
                func.count().label("n"),
                func.min(orders.c.order_date).label("first"),
                func.max(orders.c.order_date).label("last"),
            )
            .where(orders.c.customer_id.in_(chunk))
            .group_by(orders.c.customer_id)
            .subquery("agg")
        )
        conn.execute(
            update(customers)
            .where(customers.c.id == agg.c.cid)
            .values(
                total_spend_minor=agg.c.total,
                order_count=agg.c.n,
                first_order_at=agg.c.first,
                last_order_at=agg.c.last,
            )
        )


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
