"""Stored rules get the contract's shape, so a campaign's rule means what its segment meant.

Campaigns stored their rule with pydantic's field-name dump: groups said `"negated": true`
where every reader looks for `"not"`, so a launch read the NOT as absent and froze the
wrong audience. Each stored rule (campaigns and segments) is rewritten in the contract's
shape: `"negated"` becomes `"not"` at any depth, the root carries `"version": 1`, and the
nulls a dump wrote for absent values are dropped.

Deliberately self-contained (no import of the live rule parser): history must not change
when the app's code does. A row that cannot be read as a rule tree is left as it is and
logged by id; launching such a campaign is refused with the parser's message.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("minicrm_desktop.migrations")

TABLES = ("campaigns", "segments")
VERSION = 1


class Unreadable(ValueError):
    """A stored text that is not a rule tree this migration can rewrite safely."""


def upgrade() -> None:
    bind = op.get_bind()
    for name in TABLES:
        table = sa.table(name, sa.column("id", sa.Integer), sa.column("rule_json", sa.Text))
        for row_id, text in bind.execute(sa.select(table.c.id, table.c.rule_json)).all():
            try:
                new = rewrite(text)
            except Unreadable as exc:
                log.warning("%s row %s: rule left as stored (%s)", name, row_id, exc)
                continue
            if new != text:
                bind.execute(table.update().where(table.c.id == row_id).values(rule_json=new))


def downgrade() -> None:
    # The new shape is the contract every release's reader expects; nothing to undo.
    pass


def rewrite(text: str | None) -> str:
    """The stored rule in the contract's shape (compact JSON), or Unreadable."""
    if text is None:
        raise Unreadable("no rule")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise Unreadable("not JSON") from None
    if not _is_group(data):
        raise Unreadable("not a rule group")
    try:
        root = _group(data)
    except RecursionError:
        raise Unreadable("nested too deeply") from None
    if root.get("version") is None:
        root = {"version": VERSION, **{k: v for k, v in root.items() if k != "version"}}
    return json.dumps(root, ensure_ascii=False, separators=(",", ":"))


def _is_group(node: Any) -> bool:
    return isinstance(node, dict) and isinstance(node.get("rules"), list)


def _group(node: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        if value is None or key in ("negated", "rules"):
            continue
        out[key] = value
    if "negated" in node and node["negated"] is not None:
        negated = node["negated"]
        if not isinstance(negated, bool):
            raise Unreadable(f'"negated" is {json.dumps(negated)[:20]}, not true or false')
        if "not" in out and out["not"] != negated:
            raise Unreadable('"not" and "negated" disagree')
        out["not"] = negated
    out["rules"] = [_item(item) for item in node["rules"]]
    return out


def _item(item: Any) -> Any:
    if _is_group(item):
        return _group(item)
    if isinstance(item, dict):
        # A condition: "value": null was a dump's spelling of "no value".
        return {key: value for key, value in item.items() if value is not None}
    return item  # not a rule at all: kept for the reader to refuse with its own message
