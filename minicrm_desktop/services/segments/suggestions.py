"""Values to suggest while a marketer types a condition's value: cities, tags and email
domains from the database, those starting with what was typed (case-insensitively), the
most frequent first.

Each is a range seek and an index-only count: the prefix becomes `norm >= p AND norm < p'`
(p' = p with its last character incremented) on a lower-cased column whose index the
count can be answered from (customers.city_norm; tags.name_norm then customer_tags by tag).
Email domains: on MySQL/MariaDB the generated, indexed customers.email_domain (migration
0013) answers like a city; SQLite counts them from its covering email index (one narrow
scan, filtered by `LIKE '%@prefix%'`, as an address holds a single `@`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, literal_column, select

from ...models.engine_only import EMAIL_DOMAIN_COLUMN
from ...models.tables import customer_tags, customers_table, tags_table
from .text_match import LIKE_ESCAPE, escape_like

c = customers_table.c
t = tags_table.c

SUGGESTED_FIELDS = ("city", "tags", "email_domain")
MAX_SUGGESTIONS = 100


@dataclass(frozen=True)
class ValueSuggestion:
    value: str  # as stored (a city as first written; a domain lower-cased)
    count: int  # customers with it


def suggest_values(engine: Engine, field: str, prefix: str = "", *,
                   limit: int = 10) -> list[ValueSuggestion]:
    """Up to `limit` values of `field` ("city", "tags" or "email_domain") starting with
    `prefix`, case-insensitively, by how many customers have them (then alphabetically)."""
    if field not in SUGGESTED_FIELDS:
        raise ValueError(f"no suggestions for {field!r}; expected one of "
                         f"{', '.join(SUGGESTED_FIELDS)}")
    limit = max(1, min(limit, MAX_SUGGESTIONS))
    needle = unicodedata.normalize("NFC", prefix.lstrip()).lower()
    if field == "city":
        return _cities(engine, needle, limit)
    if field == "tags":
        return _tags(engine, needle, limit)
    return _domains(engine, needle, limit)


def _starts_with(col: Any, prefix: str) -> ColumnElement[bool]:
    """`col` begins with `prefix`, as an index range (code-point order is the order of
    both engines' binary collations on the *_norm columns)."""
    upper = _successor(prefix)
    lower: ColumnElement[bool] = col >= prefix
    return lower if upper is None else (lower & (col < upper))


def _successor(prefix: str) -> str | None:
    """The first string after every string starting with `prefix` (None: no bound)."""
    while prefix:
        last = ord(prefix[-1]) + 1
        if 0xD800 <= last <= 0xDFFF:  # surrogates are no characters: skip them
            last = 0xE000
        if last <= 0x10FFFF:
            return prefix[:-1] + chr(last)
        prefix = prefix[:-1]
    return None


def _cities(engine: Engine, prefix: str, limit: int) -> list[ValueSuggestion]:
    n = func.count().label("n")
    stmt = (select(c.city_norm, n).where(c.city_norm.is_not(None),
                                         _starts_with(c.city_norm, prefix))
            .group_by(c.city_norm).order_by(n.desc(), c.city_norm).limit(limit))
    with engine.connect() as conn:
        top = conn.execute(stmt).all()
        # One seek each for how the city was written (the norm is lower-cased).
        return [ValueSuggestion(
            conn.execute(select(c.city).where(c.city_norm == norm).limit(1)).scalar_one(),
            int(count)) for norm, count in top]


def _tags(engine: Engine, prefix: str, limit: int) -> list[ValueSuggestion]:
    # Counted on customer_tags' (tag_id, customer_id) index alone, grouped in its order,
    # then joined to the few names: a join first makes MariaDB visit every link row's tag.
    wanted = select(t.id).where(_starts_with(t.name_norm, prefix))
    ct = customer_tags.c
    counts = (select(ct.tag_id, func.count().label("n")).where(ct.tag_id.in_(wanted))
              .group_by(ct.tag_id).subquery())
    stmt = (select(t.name, counts.c.n).join(counts, counts.c.tag_id == t.id)
            .order_by(counts.c.n.desc(), t.name_norm).limit(limit))
    with engine.connect() as conn:
        return [ValueSuggestion(name, int(count)) for name, count in conn.execute(stmt)]


def _domains(engine: Engine, prefix: str, limit: int) -> list[ValueSuggestion]:
    email = c.email_norm
    n = func.count().label("n")
    if engine.dialect.name != "sqlite":
        domain: Any = literal_column(f"customers.{EMAIL_DOMAIN_COLUMN}", email.type)
        stmt = (select(domain.label("domain"), n).select_from(customers_table)
                .where(_starts_with(domain, prefix)))
    else:
        domain = func.substr(email, func.instr(email, "@") + 1).label("domain")
        stmt = select(domain, n).select_from(customers_table)
        if prefix:
            stmt = stmt.where(email.like(f"%@{escape_like(prefix)}%", escape=LIKE_ESCAPE))
    stmt = stmt.group_by(domain).order_by(n.desc(), domain).limit(limit)
    with engine.connect() as conn:
        return [ValueSuggestion(str(d), int(count)) for d, count in conn.execute(stmt)]
