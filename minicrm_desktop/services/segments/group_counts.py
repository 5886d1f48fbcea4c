"""The count of every group of a rule tree, for the rule builder to show beside each group.

Each group is counted as a segment of its own (its `not` included). An empty root counts
everyone; in the builder's draft counts, a group below it with no active condition is not
counted at all (its number would be everyone's, which says nothing about the group). All
groups are counted in one scan of the customers table — one `SUM(CASE WHEN group THEN 1
ELSE 0 END)` per group — split into a few queries for very large trees. A tree with no
group below the root is counted as count_audience counts it (its WHERE can seek an index,
or count_plan.py has a cheaper sum); several groups keep the one scan, which a sum of
index ranges per group does not reliably beat. Cancelling stops
between queries and also inside one: on SQLite a progress handler interrupts it, on
MySQL/MariaDB a watcher thread sends `KILL QUERY` for this connection from a second one
(an account may end its own queries).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, func, select
from sqlalchemy.exc import OperationalError

from ...models.rule_tree import GroupNode, Path
from ...models.rules import RuleGroup, parse_rule
from ...models.tables import customers_table
from .compiler import compile_rule
from .count_plan import planned_count_statement
from .periods import resolve_as_of
from .pruning import prune_unset_mapped

#: Groups counted per query: each adds a predicate evaluated on every row of the scan.
GROUPS_PER_QUERY = 64
#: SQLite virtual-machine steps between two looks at the cancel flag.
_CANCEL_STEPS = 20_000
#: Seconds between two looks at the cancel flag while MySQL/MariaDB counts.
_WATCH_S = 0.05


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
    """path → number of customers matching that group; None if cancelled.

    `should_cancel` may be called from a helper thread (MySQL/MariaDB): a flag check."""
    moment = resolve_as_of(as_of)
    dialect = engine.dialect.name
    groups = list(groups_of(tree))
    counts: dict[Path, int] = {}
    with engine.connect() as conn:
        for start in range(0, len(groups), GROUPS_PER_QUERY):
            if should_cancel is not None and should_cancel():
                return None
            batch = groups[start:start + GROUPS_PER_QUERY]
            if len(groups) == 1:  # the root alone: its count as count_audience plans it
                stmt: Any = planned_count_statement(tree, moment, dialect)
            else:
                sums = [func.coalesce(func.sum(case((compile_rule(g, moment, dialect), 1),
                                                    else_=0)), 0) for _, g in batch]
                stmt = select(*sums).select_from(customers_table)
            row = _run(conn, stmt, should_cancel)
            if row is None:
                return None
            counts.update((path, int(n)) for (path, _), n in zip(batch, row, strict=True))
    return counts


def draft_group_counts(
    engine: Engine,
    rule: dict[str, Any] | GroupNode,
    *,
    as_of: datetime | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> tuple[dict[Path, int], list[Path]] | None:
    """The builder's tree as it stands: conditions still waiting for a value are left out
    (pruning.py), every group is counted, and both the counts and the rows left out are
    keyed by their paths in the given tree. A group below the root with no active condition
    (all unset, or none) has no count. RuleError if what remains breaks the contract;
    None if cancelled."""
    pruned = prune_unset_mapped(rule)
    counts = group_counts(engine, parse_rule(pruned.rule), as_of=as_of,
                          should_cancel=should_cancel)
    if counts is None:
        return None
    empty = set(_empty_groups(pruned.rule))
    return {pruned.group_paths[p]: n for p, n in counts.items()
            if p == () or p not in empty}, pruned.left_out


def _empty_groups(group: dict[str, Any]) -> list[Path]:
    """Paths of the groups (as JSON) holding no condition at any depth."""
    found: list[Path] = []
    _holds_condition(group, (), found)
    return found


def _holds_condition(group: dict[str, Any], path: Path, empty: list[Path]) -> bool:
    holds = False
    for index, item in enumerate(group.get("rules", [])):
        if isinstance(item, dict) and "rules" in item:
            holds |= _holds_condition(item, (*path, index), empty)
        else:
            holds = True
    if not holds:
        empty.append(path)
    return holds


def _run(conn: Connection, stmt: Any, should_cancel: Callable[[], bool] | None) -> Any:
    """The statement's one row, or None when cancelled while it ran."""
    with _interrupted_when(conn, should_cancel) as fired:
        try:
            row = conn.execute(stmt).one()
        except OperationalError:
            if not fired:
                raise
    if fired:
        conn.invalidate()  # a server-side kill may linger: never hand this connection on
        return None
    return row


@contextmanager
def _interrupted_when(conn: Connection,
                      should_cancel: Callable[[], bool] | None) -> Iterator[list[bool]]:
    """Interrupt the statement run inside as soon as `should_cancel()`; the list yielded
    holds True once it was."""
    fired: list[bool] = []
    if should_cancel is None:
        yield fired
        return
    raw: Any = conn.connection.driver_connection
    if isinstance(raw, sqlite3.Connection):
        def handler() -> int:
            if should_cancel():
                fired.append(True)
                return 1
            return 0

        raw.set_progress_handler(handler, _CANCEL_STEPS)
        try:
            yield fired
        finally:
            raw.set_progress_handler(None, 0)
        return
    target = int(conn.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one())
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(_WATCH_S):
            if should_cancel():
                fired.append(True)  # before the kill: its error may arrive at once
                with conn.engine.connect() as other:
                    other.exec_driver_sql("KILL QUERY %s", (target,))
                return

    watcher = threading.Thread(target=watch, name="minicrm-count-cancel", daemon=True)
    watcher.start()
    try:
        yield fired
    finally:
        stop.set()
        watcher.join()
