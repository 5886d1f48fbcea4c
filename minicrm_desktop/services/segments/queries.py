"""Audience queries: count, pages for previews, every id for a launch, a small sample.

Each compiles the rule once (one `as_of` for the whole operation) into one SELECT (a
count may be planned as a sum of cheaper counts, count_plan.py; ids never are); rows
come back as plain frozen dataclasses, never ORM objects, so they may cross threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, func, select

from ...models.rules import RuleGroup
from ...models.tables import customers_table
from .compiler import Predicate, compile_rule
from .count_plan import planned_count_statement
from .periods import resolve_as_of

customers = customers_table

DEFAULT_PAGE_SIZE = 100
ID_CHUNK = 5000


@dataclass(frozen=True)
class AudienceMember:
    """What a preview shows of a matching customer (money in paise)."""

    id: int
    email: str
    name: str | None
    city: str | None
    subscribed: bool
    total_spend_minor: int
    order_count: int
    last_order_at: datetime | None


def audience_where(
    engine: Engine | Connection, tree: RuleGroup, as_of: datetime | None
) -> Predicate:
    return compile_rule(tree, resolve_as_of(as_of), engine.dialect.name)


def count_statement(where: Predicate) -> Select[int]:
    return select(func.count()).select_from(customers).where(where)


def audience_count_statement(
    engine: Engine | Connection, tree: RuleGroup, as_of: datetime | None
) -> Select[Any]:
    """The count of `tree` as one SELECT, planned (count_plan.py): not always one WHERE."""
    return planned_count_statement(tree, resolve_as_of(as_of), engine.dialect.name)


def count_audience(engine: Engine, tree: RuleGroup, *, as_of: datetime | None = None) -> int:
    stmt = audience_count_statement(engine, tree, as_of)
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def audience_page(
    engine: Engine,
    tree: RuleGroup,
    *,
    as_of: datetime | None = None,
    after_id: int | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> list[AudienceMember]:
    """Matching customers ordered by id, the page after `after_id` (keyset paging)."""
    where = audience_where(engine, tree, as_of)
    return _page(engine, where, after_id, limit)


def _page(
    engine: Engine, where: Predicate, after_id: int | None, limit: int
) -> list[AudienceMember]:
    c = customers.c
    stmt = select(
        c.id,
        c.email,
        c.name,
        c.city,
        c.subscribed,
        c.total_spend_minor,
        c.order_count,
        c.last_order_at,
    ).where(where)
    if after_id is not None:
        stmt = stmt.where(c.id > after_id)
    stmt = stmt.order_by(c.id).limit(limit)
    with engine.connect() as conn:
        return [AudienceMember(*row) for row in conn.execute(stmt)]


def audience_sample(
    engine: Engine, tree: RuleGroup, *, as_of: datetime | None = None, size: int = 10
) -> list[AudienceMember]:
    """A few matching customers to show beside a count (the first by id: cheap and stable)."""
    return audience_page(engine, tree, as_of=as_of, limit=size)


def iter_audience_ids(
    engine: Engine, tree: RuleGroup, *, as_of: datetime | None = None, chunk: int = ID_CHUNK
) -> Iterator[list[int]]:
    """Every matching id in ascending chunks, each its own short query (bounded memory)."""
    where = audience_where(engine, tree, as_of)
    after = 0
    while True:
        stmt = (
            select(customers.c.id)
            .where(where, customers.c.id > after)
            .order_by(customers.c.id)
            .limit(chunk)
        )
        with engine.connect() as conn:
            ids = [int(i) for i in conn.execute(stmt).scalars()]
        if not ids:
            return
        yield ids
        after = ids[-1]
        if len(ids) < chunk:
            return


def iter_audience_emails(
    engine: Engine, tree: RuleGroup, *, as_of: datetime | None = None, chunk: int = ID_CHUNK
) -> Iterator[str]:
    """Matching emails lower-cased, in code-point order (keyset on the unique email_norm)."""
    where = audience_where(engine, tree, as_of)
    col = customers.c.email_norm
    after: str | None = None
    while True:
        stmt = select(col).where(where)
        if after is not None:
            stmt = stmt.where(col > after)
        stmt = stmt.order_by(col).limit(chunk)
        with engine.connect() as conn:
            emails = list(conn.execute(stmt).scalars())
        yield from emails
        if len(emails) < chunk:
            return
        after = emails[-1]
