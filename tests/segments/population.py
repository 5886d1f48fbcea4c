"""Test customers: a plain description, inserted with consistent aggregates on any engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, insert, select

from minicrm_desktop.models.tables import customer_tags, customers_table, orders_table, tags_table
from minicrm_desktop.models.text import normalize, tags_key
from minicrm_desktop.services.customers.aggregates import refresh_aggregates

customers = customers_table


@dataclass
class Person:
    email: str
    name: str | None = None
    phone: str | None = None
    city: str | None = None
    signup_date: datetime = datetime.fromisoformat("2024-01-01T00:00:00+00:00")
    visits: int = 0
    last_visit: datetime | None = None
    subscribed: bool = True
    tags: list[str] = field(default_factory=list)
    orders: list[tuple[int, datetime]] = field(default_factory=list)  # (paise, when)


def insert_people(engine: Engine, people: list[Person]) -> dict[str, int]:
    """Insert `people`; returns email -> customer id. Aggregates are refreshed as the app does."""
    with engine.begin() as conn:
        conn.execute(
            insert(customers),
            [
                {
                    "email": p.email,
                    "email_norm": p.email.lower(),
                    "name": p.name,
                    "name_norm": normalize(p.name),
                    "phone": p.phone,
                    "phone_norm": normalize(p.phone),
                    "city": p.city,
                    "city_norm": normalize(p.city),
                    "signup_date": p.signup_date,
                    "visits": p.visits,
                    "last_visit": p.last_visit,
                    "subscribed": p.subscribed,
                    "tags_norm": tags_key(p.tags),
                }
                for p in people
            ],
        )
        ids = {e: i for i, e in conn.execute(select(customers.c.id, customers.c.email))}
        labels = {t.lower(): t for p in people for t in p.tags}
        if labels:
            conn.execute(
                insert(tags_table), [{"name": t, "name_norm": k} for k, t in labels.items()]
            )
        tag_ids = {k: i for i, k in conn.execute(select(tags_table.c.id, tags_table.c.name_norm))}
        links = {(ids[p.email], tag_ids[t.lower()]) for p in people for t in p.tags}
        if links:
            conn.execute(
                insert(customer_tags), [{"customer_id": c, "tag_id": t} for c, t in links]
            )
        order_rows = [
            {
                "order_id": f"{p.email}-{n}",
                "customer_id": ids[p.email],
                "amount_minor": amount,
                "order_date": when,
            }
            for p in people
            for n, (amount, when) in enumerate(p.orders)
        ]
        if order_rows:
            conn.execute(insert(orders_table), order_rows)
        refresh_aggregates(conn, list(ids.values()))
    return ids
