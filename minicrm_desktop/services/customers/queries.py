"""Read-side customer queries for the views: ordered ids, pages, detail, CSV export.

Qt-free. Every function takes a Connection (or an Engine for the streaming export) so the
caller decides the thread: each background task opens its own connection. Results are
plain frozen dataclasses, never ORM objects. Search text and every other value reach SQL
as bound parameters.

The customers table is browsed the way Anki's browser does it: one query returns the ids
of the whole view in order (8 bytes per row, computed off the GUI thread), and rows are
then fetched a page at a time by primary key.

Over 400 lines on purpose: the read side of one table (ids, pages, detail, export) shares
its search and ordering clauses; splitting it would split those.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
)

from minicrm_desktop.models import Customer, Order, Tag, customer_tags
from minicrm_desktop.models.engine_only import SIGNUP_US_COLUMN
from minicrm_desktop.models.money import minor_to_decimal
from minicrm_desktop.services.core.csv_export import csv_writer
from minicrm_desktop.services.customers.rows import (
    SORT_KEYS,  # noqa: F401 - the views' list of SORT_COLUMNS' keys (a test compares them)
    CustomerDetail,
    CustomerQuery,
    CustomerRow,
    OrderRow,
)
from minicrm_desktop.services.importing import CUSTOMER_FIELDS

customers = Customer.__table__
orders = Order.__table__
tags = Tag.__table__

#: Sort keys the views may ask for -> the column sorted on.
SORT_COLUMNS: dict[str, Any] = {
    "id": customers.c.id,
    "name": customers.c.name_norm,
    "email": customers.c.email_norm,
    "phone": customers.c.phone_norm,
    "city": customers.c.city_norm,
    "signup_date": customers.c.signup_date,
    "visits": customers.c.visits,
    "order_count": customers.c.order_count,
    "total_spend": customers.c.total_spend_minor,
    "last_order_at": customers.c.last_order_at,
    "subscribed": customers.c.subscribed,
}
_NULLABLE_SORTS = {"name", "phone", "city", "last_order_at"}
_SEARCHED = (
    customers.c.name_norm,
    customers.c.email_norm,
    customers.c.phone_norm,
    customers.c.city_norm,
)


_ROW_COLUMNS = (
    customers.c.id,
    customers.c.name,
    customers.c.email,
    customers.c.phone,
    customers.c.city,
    customers.c.signup_date,
    customers.c.visits,
    customers.c.order_count,
    customers.c.total_spend_minor,
    customers.c.last_order_at,
    customers.c.subscribed,
)


def _row(values: Sequence[Any]) -> CustomerRow:
    return CustomerRow(
        id=values[0],
        name=values[1],
        email=values[2],
        phone=values[3],
        city=values[4],
        signup_date=values[5],
        visits=values[6],
        order_count=values[7],
        total_spend_minor=values[8],
        last_order_at=values[9],
        subscribed=bool(values[10]),
    )


def search_condition(text: str) -> ColumnElement[bool] | None:
    """Case-insensitive substring match on name, email, phone and city; None for blank."""
    needle = text.strip().lower()
    if not needle:
        return None
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern: BindParameter[str] = bindparam("search_pattern", f"%{escaped}%")
    return or_(*(col.like(pattern, escape="\\") for col in _SEARCHED))


def _where(query: CustomerQuery, stmt: Select[Any]) -> Select[Any]:
    cond = search_condition(query.search)
    return stmt if cond is None else stmt.where(cond)


def _ordered(query: CustomerQuery, stmt: Select[Any], dialect: str) -> Select[Any]:
    col = sort_column(query.sort, dialect)
    keys: list[Any] = []
    if query.sort in _NULLABLE_SORTS:
        # Blanks last whichever way the user sorts: they are the least interesting rows.
        keys.append(col.is_(None))
    keys.append(col.desc() if query.descending else col.asc())
    keys.append(customers.c.id.desc() if query.descending else customers.c.id.asc())
    return stmt.order_by(*keys)


def sort_column(key: str, dialect: str) -> Any:
    """The column a view sorted by `key` is ordered on. SQLite sorts by signup date on the
    integer signup_us (migration 0024): the same instant, so the same order, and the only
    index of the signup date there (models/engine_only.py)."""
    if key == "signup_date" and dialect == "sqlite":
        return literal_column(f"customers.{SIGNUP_US_COLUMN}")
    return SORT_COLUMNS[key]


def count_customers(conn: Connection, query: CustomerQuery | None = None) -> int:
    stmt = _where(query or CustomerQuery(), select(func.count()).select_from(customers))
    return int(conn.execute(stmt).scalar_one())


def ordered_ids(
    conn: Connection,
    query: CustomerQuery,
    *,
    first_chunk: int = 0,
    chunk_size: int = 20_000,
    on_first_chunk: Callable[[array[int]], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> array[int] | None:
    """The ids of every customer in the view, in display order (None if cancelled).

    `on_first_chunk` receives the first `first_chunk` ids as soon as they are read, so a
    view can show its first page before a million ids have arrived. The ids are read on
    the driver's own cursor: building a SQLAlchemy Row per id costs four times as much,
    and this runs while the GUI thread competes for the GIL.
    """
    stmt = _ordered(query, _where(query, select(customers.c.id)), conn.dialect.name)
    compiled = stmt.compile(dialect=conn.dialect)
    params: Any = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    cursor = _streaming_cursor(conn)
    ids: array[int] = array("q")
    try:
        cursor.execute(str(compiled), params)
        if first_chunk and on_first_chunk is not None:
            ids.extend(chain.from_iterable(cursor.fetchmany(first_chunk)))
            on_first_chunk(array("q", ids))
        while True:
            if should_cancel is not None and should_cancel():
                return None
            rows = cursor.fetchmany(chunk_size)
            if not rows:
                return ids
            ids.extend(chain.from_iterable(rows))
    finally:
        cursor.close()


def _streaming_cursor(conn: Connection) -> Any:
    """A DBAPI cursor that fetches rows as they are read (MySQL buffers them otherwise)."""
    raw = conn.connection.driver_connection
    if conn.dialect.driver == "pymysql":
        import pymysql.cursors

        return raw.cursor(pymysql.cursors.SSCursor)  # type: ignore[union-attr]
    return raw.cursor()  # type: ignore[union-attr]


def fetch_rows(conn: Connection, ids: Sequence[int]) -> list[CustomerRow]:
    """The rows with these ids, in the order given (ids that vanished are skipped)."""
    if not ids:
        return []
    stmt = select(*_ROW_COLUMNS).where(customers.c.id.in_(bindparam("ids", expanding=True)))
    by_id = {r[0]: _row(r) for r in conn.execute(stmt, {"ids": list(ids)})}
    return [by_id[i] for i in ids if i in by_id]


def fetch_page(
    conn: Connection, query: CustomerQuery, offset: int, limit: int
) -> list[CustomerRow]:
    """One page by OFFSET: for small views and exports; the GUI pages by ids instead."""
    stmt = _ordered(query, _where(query, select(*_ROW_COLUMNS)), conn.dialect.name)
    stmt = stmt.offset(offset).limit(limit)
    return [_row(r) for r in conn.execute(stmt)]


def customer_detail(
    conn: Connection, customer_id: int, max_orders: int = 500
) -> CustomerDetail | None:
    """A customer with their tags and newest orders; None if they no longer exist."""
    row = conn.execute(
        select(*_ROW_COLUMNS, customers.c.first_order_at, customers.c.last_visit).where(
            customers.c.id == customer_id
        )
    ).first()
    if row is None:
        return None
    tag_names = (
        conn.execute(
            select(tags.c.name)
            .join(customer_tags, customer_tags.c.tag_id == tags.c.id)
            .where(customer_tags.c.customer_id == customer_id)
            .order_by(tags.c.name_norm)
        )
        .scalars()
        .all()
    )
    order_rows = conn.execute(
        select(orders.c.order_id, orders.c.amount_minor, orders.c.order_date)
        .where(orders.c.customer_id == customer_id)
        .order_by(orders.c.order_date.desc(), orders.c.id.desc())
        .limit(max_orders)
    ).all()
    total = conn.execute(
        select(func.count()).select_from(orders).where(orders.c.customer_id == customer_id)
    ).scalar_one()
    return CustomerDetail(
        customer=_row(row[:11]),
        first_order_at=row[11],
        last_visit=row[12],
        tags=tuple(tag_names),
        orders=tuple(OrderRow(*r) for r in order_rows),
        orders_total=int(total),
    )


# The import's columns first, so an export can be imported again as it is.
EXPORT_HEADER = (
    *CUSTOMER_FIELDS,
    "order_count",
    "total_spend",
    "first_order_at",
    "last_order_at",
)
_EXPORT_COLUMNS = (
    customers.c.id,
    customers.c.email,
    customers.c.name,
    customers.c.phone,
    customers.c.city,
    customers.c.signup_date,
    customers.c.visits,
    customers.c.last_visit,
    customers.c.subscribed,
    customers.c.order_count,
    customers.c.total_spend_minor,
    customers.c.first_order_at,
    customers.c.last_order_at,
)


def _iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def export_customers_csv(
    engine: Engine,
    query: CustomerQuery,
    path: Path,
    *,
    batch_size: int = 5_000,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> int | None:
    """Stream the view to CSV in display order; returns rows written, None if cancelled.

    The contact columns use the import's names and formats (dates in UTC ISO 8601, tags
    joined by "|"), so a file can be edited and imported again after dropping the aggregate
    columns. The file is written beside the target and renamed at the end, so a cancelled
    or failed export never leaves a half file under the chosen name.
    """
    partial = path.with_name(path.name + ".part")
    written = 0
    # Tags come over a second connection: a streaming MySQL cursor keeps the first busy.
    with engine.connect() as conn, engine.connect() as tag_conn:
        total = count_customers(conn, query)
        stmt = _ordered(query, _where(query, select(*_EXPORT_COLUMNS)), conn.dialect.name)
        result = conn.execution_options(stream_results=True).execute(stmt)
        try:
            with partial.open("w", newline="", encoding="utf-8") as fh:
                writer = csv_writer(fh)
                writer.writerow(EXPORT_HEADER)
                while True:
                    rows = result.fetchmany(batch_size)
                    if not rows:
                        break
                    if should_cancel is not None and should_cancel():
                        result.close()
                        partial.unlink(missing_ok=True)
                        return None
                    tag_map = _tags_of(tag_conn, [r[0] for r in rows])
                    writer.writerows(_export_row(r, tag_map.get(r[0], ())) for r in rows)
                    written += len(rows)
                    if progress is not None:
                        progress(written, total)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            result.close()
    partial.replace(path)
    return written


def _tags_of(conn: Connection, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    stmt = (
        select(customer_tags.c.customer_id, tags.c.name)
        .join(tags, tags.c.id == customer_tags.c.tag_id)
        .where(customer_tags.c.customer_id.in_(bindparam("ids", expanding=True)))
        .order_by(customer_tags.c.customer_id, tags.c.name_norm)
    )
    for cid, name in conn.execute(stmt, {"ids": ids}):
        out.setdefault(cid, []).append(name)
    return out


def _export_row(r: Sequence[Any], tag_names: Iterable[str]) -> list[object]:
    (
        _id,
        email,
        name,
        phone,
        city,
        signup,
        visits,
        last_visit,
        subscribed,
        order_count,
        spend,
        first_order,
        last_order,
    ) = r
    return [
        email,
        name or "",
        phone or "",
        city or "",
        _iso(signup),
        visits,
        _iso(last_visit),
        "true" if subscribed else "false",
        "|".join(tag_names),
        order_count,
        str(minor_to_decimal(spend)),
        _iso(first_order),
        _iso(last_order),
    ]


# Kept importable for tests and the benchmark: a plain SQL count with a non-trivial WHERE,
# the stand-in background job until the segment engine's counts land.
def sample_audience_count(conn: Connection, since: datetime) -> int:
    stmt = (
        select(func.count())
        .select_from(customers)
        .where(
            and_(
                customers.c.subscribed.is_(True),
                customers.c.total_spend_minor > literal(500_000),
                or_(customers.c.last_order_at >= since, customers.c.visits > literal(20)),
            )
        )
    )
    return int(conn.execute(stmt).scalar_one())
