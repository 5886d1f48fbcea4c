"""Small helpers shared by tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from minicrm_desktop.models import Customer, Order, Tag, customer_tags
from minicrm_desktop.services.customers.aggregates import recomputed_aggregates, stored_aggregates


def write_csv(path: Path, content: str, *, bom: bool = False) -> Path:
    data = content.encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every user-visible fact in the database, typed and in a stable order."""
    c, o, t, ct = Customer.__table__, Order.__table__, Tag.__table__, customer_tags
    customer_columns = [col for col in c.c if col.name != "id"]
    with engine.connect() as conn:
        return {
            "customers": [
                tuple(r) for r in conn.execute(select(*customer_columns).order_by(c.c.email_norm))
            ],
            "tags": [
                tuple(r)
                for r in conn.execute(
                    select(c.c.email_norm, t.c.name_norm)
                    .join_from(ct, c, ct.c.customer_id == c.c.id)
                    .join(t, t.c.id == ct.c.tag_id)
                    .order_by(c.c.email_norm, t.c.name_norm)
                )
            ],
            "orders": [
                tuple(r)
                for r in conn.execute(
                    select(o.c.order_id, c.c.email_norm, o.c.amount_minor, o.c.order_date)
                    .join(c, c.c.id == o.c.customer_id)
                    .order_by(o.c.order_id)
                )
            ],
        }


def assert_aggregates_consistent(engine: Engine) -> None:
    with engine.connect() as conn:
        stored = stored_aggregates(conn)
        recomputed = recomputed_aggregates(conn)
    assert stored == recomputed
    assert_sqlite_shadows_consistent(engine)


def assert_sqlite_shadows_consistent(engine: Engine) -> None:
    """SQLite's stored copies of the aggregates (migrations 0017, 0019) match them: the
    truncated average, and the last order as microseconds since 1970 UTC; and the signup
    date's (0024) matches it."""
    if engine.dialect.name != "sqlite":
        return
    from minicrm_desktop.models.engine_only import sqlite_average, sqlite_instant

    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT total_spend_minor, order_count, avg_order_minor, last_order_at, "
            "last_order_us, signup_date, signup_us FROM customers").all()
    for total, count, average, last_text, last_us, signup_text, signup_us in rows:
        assert average == sqlite_average(total, count)
        assert signup_us == sqlite_instant(signup_text) is not None
        assert signup_us == sqlite_instant(datetime.fromisoformat(signup_text))
        assert last_us == sqlite_instant(last_text)
        if last_text is not None:  # the instant the text names, to the microsecond
            assert last_us == sqlite_instant(datetime.fromisoformat(last_text))


def assert_tags_consistent(engine: Engine) -> None:
    """customers.tags_norm must mirror customer_tags exactly."""
    from minicrm_desktop.models.text import tags_key

    c, t, ct = Customer.__table__, Tag.__table__, customer_tags
    with engine.connect() as conn:
        names: dict[int, list[str]] = {}
        for cid, name in conn.execute(
            select(ct.c.customer_id, t.c.name_norm).join(t, t.c.id == ct.c.tag_id)
        ):
            names.setdefault(cid, []).append(name)
        stored = dict(conn.execute(select(c.c.id, c.c.tags_norm)).all())
    assert stored == {cid: tags_key(names.get(cid, [])) for cid in stored}


def customers_by_email(engine: Engine) -> dict[str, Customer]:
    """Every customer, tags loaded, by normalised email."""
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        rows = session.scalars(select(Customer)).all()
        for row in rows:
            _ = row.tags
        return {c.email_norm: c for c in rows}


def refused_visits_batch() -> list[tuple[int, dict[str, Any]]]:
    """40 validated customer rows (line, values) of which rows 17 (2**70 visits, past any
    column) and 30 (2**40, past 32 bits: MariaDB refuses it, SQLite stores it) are built
    past the validator, for the database to refuse."""
    def row(i: int, visits: int) -> tuple[int, dict[str, Any]]:
        email = f"r{i}@example.com"
        return i + 2, {"email": email, "email_norm": email, "visits": visits,
                       "signup_date": "2026-01-01 00:00:00.000000"}

    batch = [row(i, i) for i in range(40)]
    batch[17] = row(17, 2**70)
    batch[30] = row(30, 2**40)
    return batch
