"""The contract's amended points (2026-12-02), each probed on both engines and against the
reference evaluator."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from .conftest import AS_OF, audience, cond, edge_people, where
from .reference import matches

ZOE, ZOE2, PADDED = "zoe@x.in", "ZOE2@X.IN", "padded@x.in"


def emails(engine: Engine, ids: dict[str, int], rule: dict[str, Any]) -> set[str]:
    by_id = {v: k for k, v in ids.items()}
    found = {by_id[i] for i in audience(engine, rule)}
    assert found == {p.email for p in edge_people() if matches(rule, p, AS_OF)}
    return found


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # Tag values are trimmed and lower-cased like stored tags.
        (where(cond("tags", "contains", " Vip ")), {ZOE, ZOE2}),
        (where(cond("tags", "in", ["  APP-USER", "nothing "])), {PADDED}),
        (where(cond("tags", "doesNotContain", "\tVIP\t")),
         {p.email for p in edge_people()} - {ZOE, ZOE2}),
        # A decomposed é finds the composed one (values compare in NFC, as text is stored).
        (where(cond("name", "contains", "Zoe\u0308")), {ZOE2, ZOE}),
        # No combinator: "and".
        ({"rules": [cond("city", "contains", "münchen"), cond("visits", ">", 1)]}, {ZOE}),
        # null/notNull ignore a leftover value.
        (where({"field": "tags", "operator": "notNull", "value": "vip"},
               {"field": "phone", "operator": "null", "value": "x"}),
         {ZOE2, PADDED, "pct@x.in", "pc@x.in", "strasse@x.in"}),
        # A space may stand for T.
        (where(cond("signup_date", ">=", "2026-05-01 23:59:59")), {
            "pune@x.in", PADDED, "istanbul@x.in"}),
    ],
)
def test_amended_points(edge_db: tuple[Engine, dict[str, int]], rule: dict[str, Any],
                        expected: set[str]) -> None:
    engine, ids = edge_db
    assert emails(engine, ids, rule) == expected
