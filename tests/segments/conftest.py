"""Segment tests: a hand-made population with the contract's edge cases, on each engine."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine

from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.segments import count_audience, iter_audience_ids
from tests.examples import examples

from .population import Person, insert_people

#: The clock of every test: Aug 31 makes "6 months ago" clamp to Feb 28.
AS_OF = datetime(2026, 8, 31, 12, 0, tzinfo=UTC)

#: Deterministic, moderate property tests (the seed is derived from each test).
PROPERTY_SETTINGS = settings(
    max_examples=examples(60),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def at(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def edge_people() -> list[Person]:
    """One customer per edge case the contract names, by a readable email."""
    return [
        Person("zoe@x.in", name="Zoë Ünal", city="MÜNCHEN", phone="+49 89 1234",
               signup_date=at("2026-05-01T00:00:00"), visits=3,
               last_visit=at("2026-08-30T10:00:00"), tags=["VIP", "newsletter"],
               orders=[(500000, at("2026-02-28T12:00:00")), (100, at("2026-08-01T00:00:00"))]),
        Person("ZOE2@X.IN", name="ZOË", city="münchen",
               signup_date=at("2026-04-30T23:59:59.999999"),
               visits=0, subscribed=False, tags=["vip"],
               orders=[(200050, at("2026-02-28T11:59:59.999999"))]),
        Person("pune@x.in", name="Pune Person", city="Pune", phone="020 555",
               signup_date=at("2026-05-01T23:59:59.999999"), visits=10,
               orders=[(100000, at("2025-08-31T12:00:00")), (200000, at("2025-01-01T00:00:00"))]),
        Person("padded@x.in", name="Padded", city="pune ", signup_date=at("2026-05-02T00:00:00"),
               visits=1, tags=["app-user"],
               orders=[(1, at("2026-08-31T12:00:00"))]),
        Person("blank@x.in", name="   ", city="", phone=" ", signup_date=at("2025-12-31T23:59:59"),
               visits=5, last_visit=at("2026-01-01T00:00:00")),
        Person("none@x.in", signup_date=at("2020-02-29T00:00:00"), subscribed=False),
        Person("pct@x.in", name="100% _real_ O'Brien \\ \"q\"", city="Kochi",
               signup_date=at("2026-01-31T00:00:00"), visits=2, tags=["50%_off"],
               orders=[(333, at("2026-03-01T00:00:00")), (333, at("2026-03-02T00:00:00")),
                       (334, at("2026-03-03T00:00:00"))]),
        Person("pc@x.in", name="100x realxobrien", city="kochi",
               signup_date=at("2026-01-31T00:00:00"), visits=2, tags=["50xxoff"],
               orders=[(1000, at("2026-03-01T00:00:00"))]),
        Person("istanbul@x.in", name="İlker", city="İstanbul",
               signup_date=at("2026-08-31T12:00:00"),
               visits=7, last_visit=at("2026-08-31T12:00:00")),
        Person("strasse@x.in", name="Straße", city="STRASSE", signup_date=at("2026-03-15T08:00:00"),
               visits=4, tags=["Früh"], orders=[(250000, at("2026-06-15T00:00:00"))]),
    ]


@pytest.fixture
def edge_db(engine: Engine) -> tuple[Engine, dict[str, int]]:
    return engine, insert_people(engine, edge_people())


def audience(engine: Engine, rule: dict[str, Any], as_of: datetime = AS_OF) -> set[int]:
    return {i for chunk in iter_audience_ids(engine, parse_rule(rule), as_of=as_of) for i in chunk}


def count(engine: Engine, rule: dict[str, Any], as_of: datetime = AS_OF) -> int:
    return count_audience(engine, parse_rule(rule), as_of=as_of)


def where(*conditions: Any, combinator: str = "and") -> dict[str, Any]:
    return {"combinator": combinator, "rules": list(conditions)}


def cond(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    out = {"field": field, "operator": operator}
    if value is not None:
        out["value"] = value
    return out
