"""Saved segments: create, rename, edit, duplicate, delete, list, get.

Every change takes the acting user, checks their role first and is audited in the same
transaction. The rule is validated before it is stored and kept as the contract's JSON. Callers get
plain `SavedSegment` values; a campaign keeps its own copy of the rule it launched with,
so editing a segment later never changes a past campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from ...errors import MiniCRMError
from ...models.base import utcnow
from ...models.rules import RuleGroup, dump_rule, load_rule, parse_rule
from ...models.segment import DESCRIPTION_LEN, SEGMENT_NAME_LEN, segments_table
from ..access.actor import Actor, Permission
from ..access.audit import Action, record
from ..access.users import authorize

segments = segments_table


class SegmentError(MiniCRMError):
    exit_code = 2


class SegmentNotFound(SegmentError):
    pass


class SegmentNameTaken(SegmentError):
    pass


@dataclass(frozen=True)
class SavedSegment:
    id: int
    name: str
    description: str
    rule: RuleGroup
    author: str | None
    created_at: datetime
    updated_at: datetime


def create_segment(
    engine: Engine,
    name: str,
    rule: RuleGroup | dict[str, Any],
    *,
    description: str = "",
    author: str | None = None,
    actor: Actor,
) -> SavedSegment:
    name = _clean_name(name)
    tree = _tree(rule)
    now = utcnow()
    values = {
        "name": name,
        "name_norm": name.lower(),
        "description": _clean_description(description),
        "rule_json": dump_rule(tree),
        "author": author if author is not None else actor.account_email,
        "created_at": now,
        "updated_at": now,
    }
    with engine.begin() as conn:
        authorize(conn, actor, Permission.EDIT_SEGMENTS)
        _check_name_free(conn, name)
        try:
            key = conn.execute(segments.insert().values(values)).inserted_primary_key
        except IntegrityError:  # a concurrent writer took the name first
            raise SegmentNameTaken(f"a segment named {name!r} already exists") from None
        if key is None:  # pragma: no cover - every supported driver returns the new id
            raise RuntimeError("the database returned no id for the new segment")
        record(conn, actor, Action.SEGMENT_CREATE, {"segment_id": int(key[0]), "name": name})
        return _get(conn, int(key[0]))


def update_segment(
    engine: Engine,
    segment_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    rule: RuleGroup | dict[str, Any] | None = None,
    actor: Actor,
) -> SavedSegment:
    """Edit any of name, description and rule; the other fields are kept."""
    values: dict[str, Any] = {"updated_at": utcnow()}
    if name is not None:
        values["name"] = _clean_name(name)
        values["name_norm"] = values["name"].lower()
    if description is not None:
        values["description"] = _clean_description(description)
    if rule is not None:
        values["rule_json"] = dump_rule(_tree(rule))
    with engine.begin() as conn:
        authorize(conn, actor, Permission.EDIT_SEGMENTS)
        before = _get(conn, segment_id)
        if name is not None:
            _check_name_free(conn, values["name"], except_id=segment_id)
        try:
            conn.execute(update(segments).where(segments.c.id == segment_id).values(values))
        except IntegrityError:
            raise SegmentNameTaken(f"a segment named {values['name']!r} already exists") from None
        changed = sorted(k for k in ("name", "description", "rule_json") if k in values)
        detail: dict[str, Any] = {"segment_id": segment_id, "name": before.name,
                                  "changed": [k.removesuffix("_json") for k in changed]}
        if name is not None and values["name"] != before.name:
            detail["new_name"] = values["name"]
        record(conn, actor, Action.SEGMENT_UPDATE, detail)
        return _get(conn, segment_id)


def rename_segment(engine: Engine, segment_id: int, name: str, *, actor: Actor) -> SavedSegment:
    return update_segment(engine, segment_id, name=name, actor=actor)


def duplicate_segment(
    engine: Engine, segment_id: int, *, author: str | None = None, actor: Actor
) -> SavedSegment:
    """A copy named "<name> (copy)", "<name> (copy 2)"... with the same rule and description."""
    original = get_segment(engine, segment_id)
    taken = {s.name.lower() for s in list_segments(engine)}
    base = f"{original.name} (copy"
    candidate, n = f"{base})", 2
    while candidate.lower() in taken:
        candidate, n = f"{base} {n})", n + 1
    return create_segment(
        engine,
        candidate[:SEGMENT_NAME_LEN],
        original.rule,
        description=original.description,
        author=author if author is not None else (actor.account_email or original.author),
        actor=actor,
    )


def delete_segment(engine: Engine, segment_id: int, *, actor: Actor) -> None:
    with engine.begin() as conn:
        authorize(conn, actor, Permission.EDIT_SEGMENTS)
        name = conn.execute(select(segments.c.name).where(segments.c.id == segment_id)).scalar()
        if conn.execute(delete(segments).where(segments.c.id == segment_id)).rowcount == 0:
            raise SegmentNotFound(f"no segment with id {segment_id}")
        record(conn, actor, Action.SEGMENT_DELETE, {"segment_id": segment_id, "name": name})


def get_segment(engine: Engine, segment_id: int) -> SavedSegment:
    with engine.connect() as conn:
        return _get(conn, segment_id)


def find_segment(engine: Engine, name: str) -> SavedSegment | None:
    with engine.connect() as conn:
        wanted = segments.c.name_norm == name.strip().lower()
        row = conn.execute(select(segments).where(wanted)).first()
    return _from_row(row._mapping) if row is not None else None


def list_segments(engine: Engine) -> list[SavedSegment]:
    """Every saved segment, by name (case-insensitively)."""
    with engine.connect() as conn:
        rows = conn.execute(select(segments).order_by(segments.c.name_norm, segments.c.id)).all()
    return [_from_row(r._mapping) for r in rows]


def _get(conn: Connection, segment_id: int) -> SavedSegment:
    row = conn.execute(select(segments).where(segments.c.id == segment_id)).first()
    if row is None:
        raise SegmentNotFound(f"no segment with id {segment_id}")
    return _from_row(row._mapping)


def _from_row(row: Any) -> SavedSegment:
    return SavedSegment(
        id=int(row["id"]),
        name=row["name"],
        description=row["description"],
        rule=load_rule(row["rule_json"]),
        author=row["author"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _check_name_free(conn: Connection, name: str, except_id: int | None = None) -> None:
    stmt = select(segments.c.id).where(segments.c.name_norm == name.lower())
    if except_id is not None:
        stmt = stmt.where(segments.c.id != except_id)
    if conn.execute(stmt).first() is not None:
        raise SegmentNameTaken(f"a segment named {name!r} already exists")


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise SegmentError("a segment needs a name")
    if len(name) > SEGMENT_NAME_LEN:
        raise SegmentError(f"a segment name has at most {SEGMENT_NAME_LEN} characters")
    return name


def _clean_description(description: str) -> str:
    if len(description) > DESCRIPTION_LEN:
        raise SegmentError(f"a description has at most {DESCRIPTION_LEN} characters")
    return description


def _tree(rule: RuleGroup | dict[str, Any]) -> RuleGroup:
    # Re-validate even a RuleGroup: one built in code may hold values parse_rule refuses.
    return parse_rule(rule.to_json() if isinstance(rule, RuleGroup) else rule)
