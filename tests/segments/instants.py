"""The boundary check shared by the rules over SQLite's integer instants (last_order_us,
signup_us): every rule shape, on both engines, against the contract's reference."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.segments import compile_rule, optimize_database

from .conftest import audience, cond, where
from .population import Person, insert_people
from .reference import matches


def assert_shapes_match_the_reference(
    engine: Engine, condition: dict[str, Any], people: list[Person], as_of: datetime, *,
    stored: str, text: str, also: Sequence[dict[str, Any]] = (),
) -> None:
    """`condition` alone, beside a spend test, under an OR and under a NOT (SQLite compiles
    each shape differently), and in the shapes `also`: the same customers as the contract's
    reference, to the microsecond. On SQLite the compiled test reads the integer column
    `stored`, never the text column `text`."""
    ids = insert_people(engine, people)
    optimize_database(engine)
    spend = cond("total_spend", ">", 1)
    nobody = cond("email", "=", "nobody@x.in")
    shapes = [
        where(condition),
        where(condition, spend),
        where(condition, where(spend, nobody, combinator="or")),
        where(condition, nobody, combinator="or"),
        *also,
        {**where(condition), "not": True},
        {"combinator": "and", "not": True,
         "rules": [where(nobody), {**where(condition, spend), "not": True}]},
    ]
    for rule in shapes:
        expected = {ids[p.email] for p in people if matches(rule, p, as_of)}
        assert audience(engine, rule, as_of) == expected, rule
    if engine.dialect.name == "sqlite":
        sql = str(compile_rule(parse_rule(where(condition)), as_of, "sqlite").compile(engine))
        assert stored in sql or sql in ("0", "1")  # no test at all: nobody, everyone
        assert text not in sql
