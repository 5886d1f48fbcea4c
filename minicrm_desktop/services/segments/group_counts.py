"""The count of every group of a rule tree, for the rule builder to show beside each group.

Each group is counted as a segment of its own (its `not` included; a group with no
conditions counts everyone, as an empty root does). All groups are counted in one scan of
the customers table — one `SUM(CASE WHEN group THEN 1 ELSE 0 END)` per group — split into
a few queries for very large trees. Cancelling stops between queries, and on SQLite also
inside one (a progress handler interrupts it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, func, select
from sqlalchemy.exc import OperationalError

from ...models.rule_tree import Path
from ...models.rules import RuleGroup
from ...models.tables import customers_table
from .compiler import compile_rule
from .periods import resolve_as_of

#: Groups counted per query: each adds a predicate evaluated on every row of the scan.
GROUPS_PER_QUERY = 64
#: SQLite virtual-machine steps between two looks at the cancel flag.
_CANCEL_STEPS = 20_000


def groups_of(tree: RuleGroup, path: Path = ()) -> Iterator[tuple[Path, RuleGroup]]:
    """Every group of the tree with its path (the root is `()`), parents first."""
    yield path, tree
    for index, rule in enumerate(tree.rules):
        if isinstance(rule, RuleGroup):
            yield from groups_of(rule, (*path, index))


def group_counts(
    engine: Engine,
    tree: RuleGroup,
    *,
    as_of: datetime | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> dict[Path, int] | None:
    """path → number of customers matching that group; None if cancelled."""
    moment = resolve_as_of(as_of)
    dialect = engine.dialect.name
    groups = list(groups_of(tree))
    counts: dict[Path, int] = {}
    with engine.connect() as conn:
        for start in range(0, len(groups), GROUPS_PER_QUERY):
            if should_cancel is not None and should_cancel():
                return None
            batch = groups[start:start + GROUPS_PER_QUERY]
            sums = [func.coalesce(func.sum(case((compile_rule(g, moment, dialect), 1),
                                                else_=0)), 0) for _, g in batch]
            row = _run(conn, select(*sums).select_from(customers_table), should_cancel)
            if row is None:
                return None
            counts.update((path, int(n)) for (path, _), n in zip(batch, row, strict=True))
    return counts


def _run(conn: Connection, stmt: Any, should_cancel: Callable[[], bool] | None) -> Any:
    raw: Any = conn.connection.driver_connection
    interruptible = should_cancel is not None and isinstance(raw, sqlite3.Connection)
    if interruptible:
        assert should_cancel is not None
        raw.set_progress_handler(lambda: 1 if should_cancel() else 0, _CANCEL_STEPS)
    try:
        return conn.execute(stmt).one()
    except OperationalError as exc:
        if interruptible and isinstance(exc.orig, sqlite3.OperationalError) \
                and "interrupt" in str(exc.orig):
            conn.rollback()
            return None
        raise
    finally:
        if interruptible:
            raw.set_progress_handler(None, 0)
