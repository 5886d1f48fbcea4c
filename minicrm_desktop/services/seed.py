"""Reproducible demo data: customers with orders over three years and a long-tailed spend."""

from __future__ import annotations

import math
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select

from ..models import Customer, Order, Tag, customer_tags
from ..models.text import normalize
from .demo_data import CITIES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, TAGS
from .upsert import existing_keys, upsert_rows

SEED_BATCH = 10_000
ORDER_HISTORY_DAYS = 3 * 365
SIGNUP_HISTORY_DAYS = 4 * 365

customers = Customer.__table__
orders = Order.__table__
tags_table = Tag.__table__


@dataclass(frozen=True)
class SeedReport:
    customers: int
    orders: int
    cancelled: bool = False

    def summary(self) -> str:
        note = " (cancelled)" if self.cancelled else ""
        return f"seeded {self.customers} customers and {self.orders} orders{note}"


SeedProgress = Callable[[int, int], None]  # (customers written, customers wanted)


def seed_demo_data(
    engine: Engine,
    customers_wanted: int,
    *,
    seed: int = 1,
    anchor: datetime | None = None,
    progress: SeedProgress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> SeedReport:
    """Add `customers_wanted` demo customers with their orders.

    The same seed and anchor (the "today" of the data, default: now) give the same data.
    Runs may be repeated: numbering continues after the customers already present.
    """
    if customers_wanted < 0:
        raise ValueError("the number of customers must be 0 or more")
    anchor = (anchor or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    rng = random.Random(seed)
    with engine.begin() as conn:
        offset = int(conn.execute(select(func.count()).select_from(customers)).scalar_one())
        upsert_rows(
            conn, tags_table, [{"name": t, "name_norm": t} for t, _ in TAGS], "name_norm", []
        )
        tag_ids = {k: v[0] for k, v in existing_keys(conn, tags_table, "name_norm",
                                                      [t for t, _ in TAGS], "id").items()}
    generator = _Generator(rng, anchor, tag_ids, seed)
    written = orders_written = 0
    cancelled = False
    while written < customers_wanted:
        n = min(SEED_BATCH, customers_wanted - written)
        batch = [generator.customer(offset + written + i) for i in range(n)]
        with engine.begin() as conn:
            first_id = _insert_customers(conn, [c for c, _, _ in batch])
            order_rows: list[dict[str, Any]] = []
            links: list[dict[str, int]] = []
            for index, (_, cust_orders, cust_tags) in enumerate(batch):
                cid = first_id + index
                for row in cust_orders:
                    row["customer_id"] = cid
                order_rows.extend(cust_orders)
                links.extend({"customer_id": cid, "tag_id": t} for t in cust_tags)
            if order_rows:
                conn.execute(insert(orders), order_rows)
            if links:
                conn.execute(insert(customer_tags), links)
        written += n
        orders_written += len(order_rows)
        if progress is not None:
            progress(written, customers_wanted)
        if should_cancel is not None and should_cancel() and written < customers_wanted:
            cancelled = True
            break
    return SeedReport(written, orders_written, cancelled)


def _insert_customers(conn: Any, rows: list[dict[str, Any]]) -> int:
    """Insert rows and return the id of the first; ids of one batch are consecutive."""
    conn.execute(insert(customers), rows)
    first_email = rows[0]["email_norm"]
    first_id = conn.execute(
        select(customers.c.id).where(customers.c.email_norm == first_email)
    ).scalar_one()
    last_id = conn.execute(
        select(customers.c.id).where(customers.c.email_norm == rows[-1]["email_norm"])
    ).scalar_one()
    if last_id - first_id != len(rows) - 1:
        raise RuntimeError("demo customers did not receive consecutive ids")
    return int(first_id)


class _Generator:
    def __init__(self, rng: random.Random, anchor: datetime, tag_ids: dict[str, int],
                 seed: int) -> None:
        self.rng = rng
        self.anchor = anchor
        self.tag_ids = tag_ids
        self.seed = seed
        self.cities = [c for c, _, _ in CITIES]
        self.city_weights = [w for _, w, _ in CITIES]
        self.city_codes = {c: code for c, _, code in CITIES}
        self.ascii_first = [_ascii(n) for n in FIRST_NAMES]
        self.ascii_last = [_ascii(n) for n in LAST_NAMES]

    def customer(self, index: int) -> tuple[dict[str, Any], list[dict[str, Any]], list[int]]:
        rng = self.rng
        fi = rng.randrange(len(FIRST_NAMES))
        li = rng.randrange(len(LAST_NAMES))
        name = f"{FIRST_NAMES[fi]} {LAST_NAMES[li]}"
        email = (
            f"{self.ascii_first[fi]}.{self.ascii_last[li]}{index + 1}"
            f"@{EMAIL_DOMAINS[index % len(EMAIL_DOMAINS)]}"
        )
        city: str | None = rng.choices(self.cities, self.city_weights)[0]
        code = self.city_codes[city] if city else "91"
        if rng.random() < 0.04:
            city = None
        phone = None if rng.random() < 0.06 else f"+{code} {rng.randrange(70000, 99999)} " \
            f"{rng.randrange(10000, 99999)}"
        signup = self.anchor - timedelta(seconds=rng.randrange(SIGNUP_HISTORY_DAYS * 86400))

        cust_orders = self._orders(index, signup)
        total = sum(o["amount_minor"] for o in cust_orders)
        dates = [o["order_date"] for o in cust_orders]
        activity = max(dates) if dates else signup
        visits = len(cust_orders) * rng.randrange(2, 9) + rng.randrange(0, 6)
        last_visit = None
        if visits:
            slack = max(1, int((self.anchor - activity).total_seconds()))
            last_visit = activity + timedelta(seconds=rng.randrange(slack))
        row = {
            "email": email,
            "email_norm": email.lower(),
            "name": name,
            "name_norm": normalize(name),
            "phone": phone,
            "phone_norm": normalize(phone),
            "city": city,
            "city_norm": normalize(city),
            "signup_date": signup,
            "visits": visits,
            "last_visit": last_visit,
            "subscribed": rng.random() < 0.86,
            "total_spend_minor": total,
            "order_count": len(cust_orders),
            "first_order_at": min(dates) if dates else None,
            "last_order_at": activity if dates else None,
        }
        cust_tags = [self.tag_ids[t] for t, p in TAGS if rng.random() < p]
        return row, cust_orders, cust_tags

    def _orders(self, index: int, signup: datetime) -> list[dict[str, Any]]:
        rng = self.rng
        if rng.random() < 0.15:
            return []
        # Geometric order counts (mean about 5.6 for buyers), lognormal amounts: a long tail.
        count = 1 + int(math.log(1.0 - rng.random()) / math.log(0.82))
        count = min(count, 60)
        start = max(signup, self.anchor - timedelta(days=ORDER_HISTORY_DAYS))
        span = max(1, int((self.anchor - start).total_seconds()))
        scale = rng.lognormvariate(0.0, 0.6)
        result = []
        for k in range(count):
            rupees = min(250_000.0, rng.lognormvariate(7.0, 0.9) * scale)
            paise = int(rupees * 100) if rng.random() < 0.3 else int(rupees) * 100
            result.append(
                {
                    "order_id": f"D{self.seed}-{index + 1}-{k + 1}",
                    "amount_minor": max(100, paise),
                    "order_date": start + timedelta(seconds=rng.randrange(span)),
                }
            )
        return result


def _ascii(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()
