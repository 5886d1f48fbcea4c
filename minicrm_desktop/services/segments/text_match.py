"""Case-insensitive text matching that agrees byte for byte on SQLite and MySQL/MariaDB.

Both sides are compared in their Unicode-lower-cased form (the *_norm columns hold
`str.lower()` of the text, in a binary NO PAD collation on MySQL, so `=` is exact on both
engines). LIKE needs its wildcards escaped so `%` and `_` in a value are plain characters,
with an escape character that is not special in MySQL string literals.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

LIKE_ESCAPE = "/"


class no_index(ColumnElement[Any]):  # noqa: N801 - reads like the SQL it makes
    """The column's value, rendered `+col` on SQLite so the planner won't seek an index on it.

    Unary plus is a no-op on every value (it only drops the column's affinity: stored
    values and bound parameters already have the same type here).
    """

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: Any) -> None:
        self.column = column
        self.type = column.type

    @property
    def nullable(self) -> bool:
        return bool(self.column.nullable)


@compiles(no_index)
def _no_index_default(element: no_index, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


@compiles(no_index, "sqlite")
def _no_index_sqlite(element: no_index, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.column, **kw))


class parenthesized(ColumnElement[bool]):  # noqa: N801 - reads like the SQL it makes
    """`(clause)`, always: SQLAlchemy flattens nested AND/OR lists into one run, which
    SQLite parses into a left-deep tree limited to 1000 levels."""

    inherit_cache = True
    _traverse_internals = [("clause", InternalTraversal.dp_clauseelement)]

    def __init__(self, clause: ColumnElement[bool]) -> None:
        self.clause = clause
        self.type = clause.type


@compiles(parenthesized)
def _parenthesized(element: parenthesized, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clause, **kw)})"


def exact_equals(col: Any, value: str) -> ColumnElement[bool]:
    """`col = value`, trailing spaces significant (NO PAD collations on MySQL)."""
    predicate: ColumnElement[bool] = col == value
    return predicate


def escape_like(text: str) -> str:
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def like_pattern(value: str, operator: str) -> str:
    """The LIKE pattern of contains/beginsWith/endsWith, the value matched literally."""
    body = escape_like(value)
    if operator == "contains":
        return f"%{body}%"
    if operator == "beginsWith":
        return f"{body}%"
    if operator == "endsWith":
        return f"%{body}"
    raise ValueError(f"not a LIKE operator: {operator!r}")
