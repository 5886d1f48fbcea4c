"""Actions on everyone in a segment: tag them, or unsubscribe them.

A preview counts who the action would change, for the confirmation ("Tag 1,284 customers
with 'diwali'?"). The action then walks the audience in keyset chunks of ids, one short
transaction each (so a million customers never hold one long lock, and progress can be
shown and the work cancelled between chunks); a small audience is a single chunk. The
audience is resolved at one `as_of` for the whole action. Role-checked first, audited once
at the end with the counts (also when cancelled or stopped by an error part-way).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, select, update

from minicrm_desktop.services.bulkload.bulk import raw_insert, raw_lookup
from minicrm_desktop.services.bulkload.upsert import upsert_rows

from ...errors import MiniCRMError
from ...models.customer import TAGS_NORM_LEN
from ...models.rules import RuleGroup, parse_rule
from ...models.tables import customer_tags, customers_table, tags_table
from ...models.text import tags_key
from ..access.actor import Actor, Permission
from ..access.audit import Action, record_now
from ..access.users import authorize
from ..importing import clean_cells, parse_tags
from .compiler import Predicate, compile_rule
from .periods import resolve_as_of
from .queries import count_statement

log = logging.getLogger(__name__)
customers = customers_table
c = customers.c

CHUNK = 2000

Progress = Callable[[int, int], None]  # (customers done, customers to do)


class BulkActionError(MiniCRMError):
    exit_code = 2


@dataclass(frozen=True)
class BulkPreview:
    audience: int  # everyone in the segment
    affected: int  # those the action would change (not yet tagged / still subscribed)


@dataclass(frozen=True)
class BulkResult:
    changed: int
    skipped: int = 0  # customers whose tags could hold no more
    cancelled: bool = False


def clean_tag(tag: str) -> str:
    """One tag label, checked as an imported tags cell is (trimmed, NFC, no control
    characters, at most 255 characters)."""
    cells, bad, char = clean_cells([tag])
    if bad is not None:
        raise BulkActionError(f"the tag contains a control character ({char})")
    if "|" in tag:
        raise BulkActionError(f"{tag.strip()!r} contains '|', which a tag cannot hold")
    try:
        labels = parse_tags(cells[0])
    except ValueError as exc:
        raise BulkActionError(str(exc)) from None
    if not labels:
        raise BulkActionError("the tag is blank: give a tag name")
    return labels[0]


def _tag_condition(label: str, *, has: bool) -> Predicate:
    op = "contains" if has else "doesNotContain"
    rule = parse_rule({"rules": [{"field": "tags", "operator": op, "value": label}]})
    return compile_rule(rule, None, "")


def _unsubscribed_condition() -> Predicate:
    rule = parse_rule({"rules": [{"field": "subscribed", "operator": "=", "value": True}]})
    return compile_rule(rule, None, "")


def _wheres(engine: Engine, tree: RuleGroup, as_of: datetime | None,
            extra: Predicate) -> tuple[Predicate, Predicate]:
    audience = compile_rule(tree, resolve_as_of(as_of), engine.dialect.name)
    return audience, and_(audience, extra)


def _preview(engine: Engine, audience: Predicate, affected: Predicate) -> BulkPreview:
    with engine.connect() as conn:
        total = int(conn.execute(count_statement(audience)).scalar_one())
        changing = int(conn.execute(count_statement(affected)).scalar_one())
    return BulkPreview(total, changing)


def preview_tag(engine: Engine, tree: RuleGroup, tag: str, *,
                as_of: datetime | None = None) -> BulkPreview:
    """How many customers the segment holds, and how many of them lack the tag."""
    return _preview(engine, *_wheres(engine, tree, as_of,
                                     _tag_condition(clean_tag(tag), has=False)))


def preview_unsubscribe(engine: Engine, tree: RuleGroup, *,
                        as_of: datetime | None = None) -> BulkPreview:
    """How many customers the segment holds, and how many of them are subscribed."""
    return _preview(engine, *_wheres(engine, tree, as_of, _unsubscribed_condition()))


def tag_segment(
    engine: Engine,
    tree: RuleGroup,
    tag: str,
    *,
    actor: Actor,
    segment: str = "",
    as_of: datetime | None = None,
    chunk: int = CHUNK,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> BulkResult:
    """Give `tag` to every customer of the segment who lacks it."""
    authorize(engine, actor, Permission.EDIT_CUSTOMERS)
    label = clean_tag(tag)
    _, affected = _wheres(engine, tree, as_of, _tag_condition(label, has=False))

    def apply(conn: Connection, ids: list[int]) -> tuple[int, int]:
        # As the import does: an existing tag keeps the spelling it was first written in.
        upsert_rows(conn, tags_table, [{"name": label, "name_norm": label.lower()}],
                    "name_norm", [])
        tag_id = raw_lookup(conn, tags_table, "name_norm", [label.lower()], "id")[
            label.lower()][0]
        rows = conn.execute(select(c.id, c.tags_norm).where(
            c.id.in_(bindparam("ids", expanding=True))), {"ids": ids}).all()
        new: list[dict[str, Any]] = []
        for cid, stored in rows:
            labels = [t for t in (stored or "").strip("|").split("|") if t]
            key = tags_key([*labels, label])
            if key != stored and len(key) <= TAGS_NORM_LEN:
                new.append({"cid": cid, "key": key})
        if new:
            conn.execute(update(customers).where(c.id == bindparam("cid"))
                         .values(tags_norm=bindparam("key")), new)
            raw_insert(conn, customer_tags, ("customer_id", "tag_id"),
                       [(row["cid"], tag_id) for row in new])
        return len(new), len(rows) - len(new)

    return _run(engine, affected, apply, actor, Action.SEGMENT_TAG,
                {"segment": segment, "tag": label}, chunk, progress, should_cancel)


def unsubscribe_segment(
    engine: Engine,
    tree: RuleGroup,
    *,
    actor: Actor,
    segment: str = "",
    as_of: datetime | None = None,
    chunk: int = CHUNK,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> BulkResult:
    """Withdraw the marketing consent of every subscribed customer of the segment."""
    authorize(engine, actor, Permission.EDIT_CUSTOMERS)
    _, affected = _wheres(engine, tree, as_of, _unsubscribed_condition())

    def apply(conn: Connection, ids: list[int]) -> tuple[int, int]:
        done = conn.execute(update(customers).where(
            c.id.in_(bindparam("ids", expanding=True)), c.subscribed.is_(True),
        ).values(subscribed=False), {"ids": ids}).rowcount
        return int(done), 0

    return _run(engine, affected, apply, actor, Action.SEGMENT_UNSUBSCRIBE,
                {"segment": segment}, chunk, progress, should_cancel)


Apply = Callable[[Connection, list[int]], tuple[int, int]]


def _run(engine: Engine, affected: Predicate, apply: Apply, actor: Actor, action: str,
         detail: dict[str, Any], chunk: int, progress: Progress | None,
         should_cancel: Callable[[], bool] | None) -> BulkResult:
    with engine.connect() as conn:
        total = int(conn.execute(count_statement(affected)).scalar_one())
    changed = skipped = 0
    after = 0
    cancelled = False
    try:
        while True:
            if should_cancel is not None and should_cancel():
                cancelled = True
                break
            with engine.connect() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")  # read what is written over
                stmt = (select(c.id).where(affected, c.id > after).order_by(c.id)
                        .limit(chunk))
                if conn.dialect.name != "sqlite":
                    stmt = stmt.with_for_update()
                ids = [int(i) for i in conn.execute(stmt).scalars()]
                if not ids:
                    break
                done, passed = apply(conn, ids)
                conn.commit()
            changed += done
            skipped += passed
            after = ids[-1]
            if progress is not None:
                progress(changed + skipped, max(total, changed + skipped))
            if len(ids) < chunk:
                break
    except BaseException as exc:
        _audit(engine, actor, action, {**detail, "changed": changed, "skipped": skipped,
                                       "failed": type(exc).__name__}, quiet=True)
        raise
    _audit(engine, actor, action, {**detail, "changed": changed, "skipped": skipped,
                                   "cancelled": cancelled})
    return BulkResult(changed, skipped, cancelled)


def _audit(engine: Engine, actor: Actor, action: str, detail: dict[str, Any],
           *, quiet: bool = False) -> None:
    try:
        record_now(engine, actor, action, detail)
    except Exception:
        if not quiet:
            raise
        log.exception("cannot record the stopped %s in the audit log", action)
