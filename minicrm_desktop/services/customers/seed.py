"""Reproducible demo data: customers with orders over three years and a long-tailed spend."""

from __future__ import annotations

import logging
import math
import random
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from statistics import NormalDist
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import IntegrityError

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.models.engine_only import SIGNUP_US_COLUMN, sqlite_instant
from minicrm_desktop.models.tables import customer_tags, customers_table, orders_table, tags_table
from minicrm_desktop.models.text import tags_key
from minicrm_desktop.services.access.actor import Actor, Permission
from minicrm_desktop.services.access.audit import Action, record_now
from minicrm_desktop.services.access.users import authorize
from minicrm_desktop.services.bulkload.bulk import EpochFormatter, raw_insert
from minicrm_desktop.services.bulkload.indexes import (
    BULK_MIN_SHARE,
    bulk_load_shortfall,
    indexes_set_aside,
)
from minicrm_desktop.services.bulkload.process_pipe import produced_in_helper
from minicrm_desktop.services.bulkload.upsert import existing_keys, upsert_rows
from minicrm_desktop.services.core.retry import with_retries
from minicrm_desktop.services.customers.aggregates import (
    sqlite_signup_stored,
    sqlite_stored_columns,
    sqlite_stored_values,
)
from minicrm_desktop.services.customers.demo_data import (
    CITIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    TAGS,
)

log = logging.getLogger(__name__)

SEED_BATCH = 20_000
DAY = 86_400
ORDER_HISTORY = 3 * 365 * DAY
SIGNUP_HISTORY = 4 * 365 * DAY
MAX_ORDERS = 60

customers = customers_table
orders = orders_table

CUSTOMER_COLUMNS = (
    "id",
    "email",
    "email_norm",
    "name",
    "name_norm",
    "phone",
    "phone_norm",
    "city",
    "city_norm",
    "signup_date",
    "visits",
    "last_visit",
    "subscribed",
    "total_spend_minor",
    "order_count",
    "first_order_at",
    "last_order_at",
    "tags_norm",
)
ORDER_COLUMNS = ("order_id", "customer_id", "amount_minor", "order_date")


@dataclass(frozen=True)
class SeedReport:
    customers: int
    orders: int
    cancelled: bool = False

    def summary(self) -> str:
        note = " (cancelled)" if self.cancelled else ""
        return f"seeded {self.customers} customers and {self.orders} orders{note}"


SeedProgress = Callable[[int, int], None]  # (customers written, customers wanted)
Batch = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[int, int]]]

# Below this size a helper process costs more to start than it saves.
PARALLEL_THRESHOLD = 50_000
# From this size on, secondary indexes are built once at the end instead of row by row.
BULK_SEED = 100_000


@dataclass(frozen=True)
class _Plan:
    """Everything that determines the generated rows (picklable for the helper process)."""

    seed: int
    anchor: int
    tag_ids: dict[str, int]
    first_index: int  # customer numbering continues after existing customers
    first_id: int
    wanted: int
    batch: int = SEED_BATCH


def seed_demo_data(
    engine: Engine,
    customers_wanted: int,
    *,
    seed: int = 1,
    anchor: datetime | None = None,
    progress: SeedProgress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    actor: Actor,
) -> SeedReport:
    """Add `customers_wanted` demo customers with their orders and aggregates.

    The same seed and anchor (the "today" of the data, default: now) give the same data.
    Runs may be repeated: numbering continues after the customers already present.
    Large runs generate rows in a helper process while this one writes them.
    Only an admin may add demo data; the run is audited.
    """
    if customers_wanted < 0:
        raise ValueError("the number of customers must be 0 or more")
    authorize(engine, actor, Permission.SEED_DEMO_DATA)
    with engine.begin() as conn:
        offset = int(conn.execute(select(func.count()).select_from(customers)).scalar_one())
        max_id = int(conn.execute(select(func.coalesce(func.max(customers.c.id), 0))).scalar_one())
        names = [t for t, _ in TAGS]
        upsert_rows(conn, tags_table, [{"name": t, "name_norm": t} for t in names], "name_norm", [])
        tag_ids = {
            k: v[0] for k, v in existing_keys(conn, tags_table, "name_norm", names, "id").items()
        }
    plan = _Plan(
        seed=seed,
        anchor=int((anchor or datetime.now(UTC)).timestamp()),
        tag_ids=tag_ids,
        first_index=offset,
        first_id=max_id + 1,
        wanted=customers_wanted,
        batch=SEED_BATCH,
    )
    written = orders_written = 0
    cancelled = False
    bulk = customers_wanted >= BULK_SEED and customers_wanted >= BULK_MIN_SHARE * offset
    if bulk and (shortfall := bulk_load_shortfall(engine)):
        log.warning("seeding in normal batches: %s", shortfall)
        bulk = False
    set_aside = (customers, orders, customer_tags) if bulk else ()
    with indexes_set_aside(engine, set_aside), _batch_source(plan) as batches:
        for cust_rows, order_rows, links in batches:
            with_retries(partial(_write_batch, engine, cust_rows, order_rows, links),
                         "writing demo data")
            written += len(cust_rows)
            orders_written += len(order_rows)
            if progress is not None:
                progress(written, customers_wanted)
            if should_cancel is not None and should_cancel() and written < customers_wanted:
                cancelled = True
                break
    # Batches commit one by one, so the log entry has a transaction of its own.
    record_now(engine, actor, Action.SEED_DEMO,
               {"customers": written, "orders": orders_written, "seed": seed,
                "cancelled": cancelled})
    return SeedReport(written, orders_written, cancelled)


class _IdsTaken(MiniCRMError):
    """Other writers kept taking the ids a batch was numbered with."""


def _write_batch(engine: Engine, cust_rows: list[tuple[Any, ...]],
                 order_rows: list[tuple[Any, ...]], links: list[tuple[int, int]]) -> None:
    """Write one generated batch, its customers numbered after the largest id now present.

    The rows were numbered ahead, in the helper process; an import, the app or the CLI may
    have added customers since, so the ids are shifted past them under the write lock
    (SQLite) or, should another MySQL client insert meanwhile, tried again.
    """
    tried: set[int] = set()
    for _attempt in range(5):
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # reads and writes under one lock
            free = int(conn.execute(
                select(func.coalesce(func.max(customers.c.id), 0))).scalar_one()) + 1
            shift = free - cust_rows[0][0] if cust_rows else 0
            if shift:
                cust_rows = [(r[0] + shift, *r[1:]) for r in cust_rows]
                order_rows = [(o[0], o[1] + shift, *o[2:]) for o in order_rows]
                links = [(c + shift, t) for c, t in links]
            try:
                _insert_customers(conn, cust_rows)
            except IntegrityError:
                if free in tried:  # the same numbering twice: not an id another writer took
                    raise
                tried.add(free)
                conn.rollback()
                continue  # MySQL: another client inserted after the read; number again
            raw_insert(conn, orders, ORDER_COLUMNS, order_rows)
            raw_insert(conn, customer_tags, ("customer_id", "tag_id"), links)
            conn.commit()
            return
    raise _IdsTaken("other writers kept taking the ids of the demo customers; try again")


_TOTAL = CUSTOMER_COLUMNS.index("total_spend_minor")
_COUNT = CUSTOMER_COLUMNS.index("order_count")
_LAST = CUSTOMER_COLUMNS.index("last_order_at")
_SIGNUP = CUSTOMER_COLUMNS.index("signup_date")


def _insert_customers(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert generated customers; on SQLite with their stored truncated average (migration
    0017), last order instant (0019) and signup instant (0024), so its triggers have nothing
    to correct for each of a million rows."""
    stored = sqlite_stored_columns(conn) if rows else ()
    signup = bool(rows) and sqlite_signup_stored(conn)
    if not stored and not signup:
        raw_insert(conn, customers, CUSTOMER_COLUMNS, rows)
        return
    columns = (*CUSTOMER_COLUMNS, *stored, *((SIGNUP_US_COLUMN,) if signup else ()))
    sql = (f"INSERT INTO customers ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' * len(columns))})")
    conn.exec_driver_sql(sql, [
        (*r, *sqlite_stored_values(stored, r[_TOTAL], r[_COUNT], r[_LAST]),
         *((sqlite_instant(r[_SIGNUP]),) if signup else ()))
        for r in rows
    ])


def _generate(plan: _Plan) -> Iterator[Batch]:
    generator = _Generator(random.Random(plan.seed), plan.anchor, plan.tag_ids, plan.seed)
    done = 0
    while done < plan.wanted:
        n = min(plan.batch, plan.wanted - done)
        batch: Batch = ([], [], [])
        for i in range(done, done + n):
            generator.customer(plan.first_index + i, plan.first_id + i, *batch)
        done += n
        yield batch


def _batch_source(plan: _Plan) -> AbstractContextManager[Iterator[Batch]]:
    if plan.wanted < PARALLEL_THRESHOLD:
        return nullcontext(_generate(plan))
    return produced_in_helper(_generate, plan, name="minicrm-seed")


class _Generator:
    """Draws one customer at a time; all randomness comes from one seeded stream."""

    def __init__(self, rng: random.Random, anchor: int, tag_ids: dict[str, int], seed: int) -> None:
        self.random = rng.random
        self.rng = rng
        self.anchor = anchor
        self.seed = seed
        self.tags = [(tag_ids[t], t, p) for t, p in TAGS]
        self.cities = [c for c, _, _ in CITIES]
        self.city_weights = [w for _, w, _ in CITIES]
        self.city_codes = {c: code for c, _, code in CITIES}
        self.first = [(n, n.lower(), _ascii(n)) for n in FIRST_NAMES]
        self.last = [(n, n.lower(), _ascii(n)) for n in LAST_NAMES]
        self.fmt = EpochFormatter()
        self.log_continue = math.log(0.82)  # geometric order counts: mean ~5.6 for buyers
        # Lognormal draws by table look-up: the same long tail at a fraction of the cost.
        self.order_rupees = _lognormal_table(7.0, 0.9)
        self.customer_scale = _lognormal_table(0.0, 0.6)

    def customer(
        self,
        index: int,
        cid: int,
        cust_rows: list[tuple[Any, ...]],
        order_rows: list[tuple[Any, ...]],
        links: list[tuple[int, int]],
    ) -> None:
        rnd = self.random
        first, first_lower, first_ascii = self.first[int(rnd() * len(self.first))]
        last, last_lower, last_ascii = self.last[int(rnd() * len(self.last))]
        name = f"{first} {last}"
        email = f"{first_ascii}.{last_ascii}{index + 1}@{EMAIL_DOMAINS[index % len(EMAIL_DOMAINS)]}"
        city: str | None = self.rng.choices(self.cities, self.city_weights)[0]
        code = self.city_codes[city or ""]
        if rnd() < 0.04:
            city = None
        phone = None
        if rnd() >= 0.06:
            phone = f"+{code} {70000 + int(rnd() * 29999)} {10000 + int(rnd() * 89999)}"
        signup = self.anchor - int(rnd() * SIGNUP_HISTORY)

        total = count = 0
        first_at = last_at = 0
        if rnd() >= 0.15:
            count = min(MAX_ORDERS, 1 + int(math.log(1.0 - rnd()) / self.log_continue))
            start = max(signup, self.anchor - ORDER_HISTORY)
            span = max(1, self.anchor - start)
            table = self.order_rupees
            size = len(table)
            scale = self.customer_scale[int(rnd() * size)]
            first_at, last_at = self.anchor, start
            prefix = f"D{self.seed}-{index + 1}-"
            fmt = self.fmt
            for k in range(1, count + 1):
                rupees = table[int(rnd() * size)] * scale
                if rupees > 250_000.0:
                    rupees = 250_000.0
                paise = int(rupees * 100) if rnd() < 0.3 else int(rupees) * 100
                if paise < 100:
                    paise = 100
                when = start + int(rnd() * span)
                if when < first_at:
                    first_at = when
                if when > last_at:
                    last_at = when
                total += paise
                order_rows.append((f"{prefix}{k}", cid, paise, fmt(when)))
        activity = last_at if count else signup
        visits = count * (2 + int(rnd() * 7)) + int(rnd() * 6)
        last_visit = None
        if visits:
            last_visit = self.fmt(activity + int(rnd() * max(1, self.anchor - activity)))
        fmt = self.fmt
        cust_rows.append(
            (
                cid,
                email,
                email.lower(),
                name,
                f"{first_lower} {last_lower}",
                phone,
                phone,
                city,
                city.lower() if city else None,
                fmt(signup),
                visits,
                last_visit,
                1 if rnd() < 0.86 else 0,
                total,
                count,
                fmt(first_at) if count else None,
                fmt(last_at) if count else None,
            )
        )
        names = []
        for tag_id, name, p in self.tags:
            if rnd() < p:
                links.append((cid, tag_id))
                names.append(name)
        cust_rows[-1] += (tags_key(names),)


def _lognormal_table(mu: float, sigma: float, size: int = 8192) -> list[float]:
    """Quantiles of a lognormal distribution at evenly spaced probabilities."""
    normal = NormalDist(mu, sigma)
    return [math.exp(normal.inv_cdf((i + 0.5) / size)) for i in range(size)]


def _ascii(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()
