"""What the customers view asks for and gets back: plain values, no SQLAlchemy.

The queries that make them are in queries.py; the view imports these when it is built
(before the window's first paint) and the queries only in its tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: The columns the view may sort by (queries.SORT_COLUMNS maps each to its column).
SORT_KEYS = frozenset({"id", "name", "email", "phone", "city", "signup_date", "visits",
                       "order_count", "total_spend", "last_order_at", "subscribed"})


@dataclass(frozen=True)
class CustomerQuery:
    """What the customers view shows: a search and a sort."""

    search: str = ""
    sort: str = "id"
    descending: bool = False

    def __post_init__(self) -> None:
        if self.sort not in SORT_KEYS:
            raise ValueError(f"cannot sort customers by {self.sort!r}")


@dataclass(frozen=True)
class CustomerRow:
    id: int
    name: str | None
    email: str
    phone: str | None
    city: str | None
    signup_date: datetime
    visits: int
    order_count: int
    total_spend_minor: int
    last_order_at: datetime | None
    subscribed: bool


@dataclass(frozen=True)
class OrderRow:
    order_id: str
    amount_minor: int
    order_date: datetime


@dataclass(frozen=True)
class CustomerDetail:
    customer: CustomerRow
    first_order_at: datetime | None
    last_visit: datetime | None
    tags: tuple[str, ...]
    orders: tuple[OrderRow, ...]  # newest first
    orders_total: int  # every order; `orders` may be capped

    @property
    def avg_order_value_minor(self) -> int | None:
        c = self.customer
        return None if c.order_count == 0 else round(c.total_spend_minor / c.order_count)
