"""Property tests: the compiled SQL's audience equals an independent Python evaluator's, on
SQLite and MariaDB, and every condition and its negation split the customers exactly."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from sqlalchemy import Engine, delete

from minicrm_desktop.models import Base
from minicrm_desktop.models.rules_fields import COMPLEMENTS, FIELDS, OPERATORS
from tests.examples import examples

from .conftest import AS_OF, PROPERTY_SETTINGS, audience, count, where
from .population import Person, insert_people
from .reference import matches
from .strategies import conditions, people, random_people, sample_values, trees

PEOPLE = random_people(seed=20261124, n=160)


@pytest.fixture
def random_db(engine: Engine) -> tuple[Engine, dict[int, Person]]:
    ids = insert_people(engine, PEOPLE)
    return engine, {ids[p.email]: p for p in PEOPLE}


def expected(tree: dict[str, Any], people: dict[int, Person]) -> set[int]:
    return {i for i, p in people.items() if matches(tree, p, AS_OF)}


@PROPERTY_SETTINGS
@given(tree=trees())
def test_sql_audience_equals_the_reference(
    random_db: tuple[Engine, dict[int, Person]], tree: dict[str, Any]
) -> None:
    engine, people = random_db
    assert audience(engine, tree) == expected(tree, people)


@PROPERTY_SETTINGS
@given(condition=conditions())
def test_condition_and_its_negations_split_everyone(
    random_db: tuple[Engine, dict[int, Person]], condition: dict[str, Any]
) -> None:
    engine, people = random_db
    matched = audience(engine, where(condition))
    assert matched == expected(where(condition), people)
    negated = audience(engine, {"combinator": "and", "not": True, "rules": [condition]})
    assert matched | negated == set(people)
    assert not matched & negated
    twin = COMPLEMENTS.get(condition["operator"])
    if twin is not None:
        assert audience(engine, where({**condition, "operator": twin})) == negated


def test_every_operator_of_every_field_against_the_reference(
    random_db: tuple[Engine, dict[int, Person]],
) -> None:
    """Systematically, each (field, operator) with every pool value: the SQL audience is the
    reference's, and count(C) + count(C') = count(all) for C' the twin operator."""
    engine, people = random_db
    total = len(people)
    mismatches = []
    for field, ftype in FIELDS.items():
        for op in OPERATORS[ftype]:
            values = sample_values(field, op)
            assert values, (field, op)
            for value in values:
                sample = {"field": field, "operator": op}
                if value is not None:
                    sample["value"] = value
                if audience(engine, where(sample)) != expected(where(sample), people):
                    mismatches.append(sample)
                twin = COMPLEMENTS.get(op)
                if twin is not None:
                    assert count(engine, where(sample)) + count(
                        engine, where({**sample, "operator": twin})) == total, sample
    assert mismatches == []


@PROPERTY_SETTINGS
@given(tree=trees(max_leaves=4))
def test_a_group_and_its_negation_split_everyone(
    random_db: tuple[Engine, dict[int, Person]], tree: dict[str, Any]
) -> None:
    engine, people = random_db
    negated = {**tree, "not": not tree["not"]}
    active = any("field" in r or r["rules"] for r in tree["rules"])
    if active:
        assert count(engine, tree) + count(engine, negated) == len(people)
    else:  # an empty group matches everyone, negated or not
        assert count(engine, tree) == count(engine, negated) == len(people)


@settings(PROPERTY_SETTINGS, max_examples=examples(25))
@given(population=people(), tree=trees(max_leaves=6))
def test_random_customers_and_random_trees(
    engine: Engine, population: list[Person], tree: dict[str, Any]
) -> None:
    """Both sides drawn by hypothesis: a failure shrinks to a few customers and one rule."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    ids = insert_people(engine, population)
    by_id = {ids[p.email]: p for p in population}
    assert audience(engine, tree) == expected(tree, by_id)
