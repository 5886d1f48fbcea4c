"""Services for the rule builder: per-group counts, value suggestions from the database,
problems in a marketer's words, and leaving unset conditions out."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from minicrm_desktop.models.rule_tree import (
    ConditionNode,
    GroupNode,
    Path,
    node_at,
    node_from_json,
)
from minicrm_desktop.models.rules import RuleError, parse_rule
from minicrm_desktop.services.segments.group_counts import draft_group_counts, group_counts
from minicrm_desktop.services.segments.pruning import is_unset, prune_unset
from minicrm_desktop.services.segments.rule_messages import explain_problems
from minicrm_desktop.services.segments.suggestions import suggest_values

from .conftest import AS_OF, PROPERTY_SETTINGS, count
from .population import Person, insert_people
from .reference import matches
from .strategies import random_people, trees

PEOPLE = random_people(seed=20261202, n=120)


@pytest.fixture
def random_db(engine: Engine) -> tuple[Engine, dict[int, Person]]:
    ids = insert_people(engine, PEOPLE)
    return engine, {ids[p.email]: p for p in PEOPLE}


def subtree(tree: dict[str, Any], path: Path) -> dict[str, Any]:
    for step in path:
        tree = tree["rules"][step]
    return tree


def group_paths(tree: dict[str, Any], path: Path = ()) -> list[Path]:
    out = [path]
    for i, rule in enumerate(tree["rules"]):
        if "rules" in rule:
            out += group_paths(rule, (*path, i))
    return out


def has_active(tree: dict[str, Any]) -> bool:
    return any(has_active(r) if "rules" in r else not is_unset(r) for r in tree["rules"])


# --- per-group counts -----------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(tree=trees())
def test_each_groups_count_is_its_subtree_counted_alone(
        random_db: tuple[Engine, dict[int, Person]], tree: dict[str, Any]) -> None:
    engine, people = random_db
    counts = group_counts(engine, parse_rule(tree), as_of=AS_OF)
    assert counts is not None
    assert set(counts) == set(group_paths(tree))
    for path, n in counts.items():
        group = subtree(tree, path)
        assert n == sum(matches(group, p, AS_OF) for p in people.values()), path


def test_many_groups_take_a_few_queries(random_db: tuple[Engine, dict[int, Person]]) -> None:
    engine, people = random_db
    groups: list[dict[str, Any]] = [{"combinator": "or", "not": i % 2 == 1, "rules": [
        {"field": "visits", "operator": ">=", "value": i % 6}]} for i in range(150)]
    tree = {"combinator": "and", "rules": groups}
    counts = group_counts(engine, parse_rule(tree), as_of=AS_OF)
    assert counts is not None
    assert len(counts) == 151
    assert counts[(3,)] == count(engine, {"not": True, "rules": [groups[3]["rules"][0]]})
    assert counts[(4,)] == sum(p.visits >= 4 for p in people.values())


def test_cancelled_before_counting(random_db: tuple[Engine, dict[int, Person]]) -> None:
    engine, _ = random_db
    tree = parse_rule({"rules": [{"field": "visits", "operator": ">", "value": 1}]})
    assert group_counts(engine, tree, should_cancel=lambda: True) is None


def test_a_running_count_is_interrupted(engine: Engine) -> None:
    insert_people(engine, [Person(f"m{i}@x.in", name=f"N{i}", city=f"C{i % 50}",
                                  visits=i % 9) for i in range(20_000)])
    # Enough work that the count is still running when the cancel flag is first read.
    heavy = [{"combinator": "or", "rules": [
        {"field": "city", "operator": "contains", "value": f"{g}q"},
        {"field": "name", "operator": "endsWith", "value": f"z{g}"},
        {"field": "email", "operator": "contains", "value": f"y{g}"}]} for g in range(60)]
    tree = parse_rule({"combinator": "or", "rules": heavy})
    asked: list[bool] = []

    def cancel() -> bool:
        asked.append(True)
        return len(asked) > 1  # not before the query starts: only once it runs

    assert group_counts(engine, tree, should_cancel=cancel) is None
    assert len(asked) > 1
    # The engine is usable afterwards, and the same count runs to the end uncancelled.
    small = parse_rule({"rules": [{"field": "visits", "operator": ">", "value": 4}]})
    assert group_counts(engine, small, should_cancel=lambda: False) == {
        (): count(engine, small.to_json())}


# --- value suggestions ----------------------------------------------------------------------


@pytest.fixture
def towns(engine: Engine) -> Engine:
    people = (
        [Person(f"p{i}@gmail.com", city="Pune", tags=["VIP"]) for i in range(5)]
        + [Person(f"q{i}@GMAIL.com", city="pune", tags=["vip", "newsletter"]) for i in range(2)]
        + [Person(f"r{i}@gmx.de", city="Puducherry", tags=["new_50%"]) for i in range(3)]
        + [Person(f"s{i}@yahoo.in", city="Mumbai") for i in range(4)]
        + [Person("t@zoho.com", city="Zürich", tags=["Früh"]),
           Person("u@x.in", city="   "), Person("v@x.in")]
    )
    insert_people(engine, people)
    return engine


def pairs(engine: Engine, field: str, prefix: str, limit: int = 10) -> list[tuple[str, int]]:
    return [(s.value, s.count) for s in suggest_values(engine, field, prefix, limit=limit)]


def test_city_suggestions_by_prefix_and_frequency(towns: Engine) -> None:
    assert pairs(towns, "city", "PU") == [("Pune", 7), ("Puducherry", 3)]
    assert pairs(towns, "city", "pun") == [("Pune", 7)]
    assert pairs(towns, "city", "") == [("Pune", 7), ("Mumbai", 4), ("Puducherry", 3),
                                        ("Zürich", 1)]
    assert pairs(towns, "city", "", limit=2) == [("Pune", 7), ("Mumbai", 4)]
    assert pairs(towns, "city", "zu\u0308") == [("Zürich", 1)]  # decomposed ü typed
    assert pairs(towns, "city", "x") == []


def test_tag_suggestions(towns: Engine) -> None:
    # The tag's spelling is the one stored (insert_people keeps the last: "vip").
    assert pairs(towns, "tags", "") == [("vip", 7), ("new_50%", 3), ("newsletter", 2),
                                        ("Früh", 1)]
    assert pairs(towns, "tags", "NEW") == [("new_50%", 3), ("newsletter", 2)]
    assert pairs(towns, "tags", "new_") == [("new_50%", 3)]
    assert pairs(towns, "tags", "fr") == [("Früh", 1)]


def test_email_domain_suggestions(towns: Engine) -> None:
    assert pairs(towns, "email_domain", "G") == [("gmail.com", 7), ("gmx.de", 3)]
    assert pairs(towns, "email_domain", "") == [("gmail.com", 7), ("yahoo.in", 4),
                                                ("gmx.de", 3), ("x.in", 2), ("zoho.com", 1)]
    assert pairs(towns, "email_domain", "g%") == []  # % is a plain character


def test_city_suggestions_read_the_city_index(towns: Engine) -> None:
    with towns.connect() as conn:
        if towns.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.execute(text(
                "EXPLAIN QUERY PLAN SELECT city_norm, count(*) FROM customers "
                "WHERE city_norm IS NOT NULL AND city_norm >= 'pu' AND city_norm < 'pv' "
                "GROUP BY city_norm")))
            assert "COVERING INDEX ix_customers_city_norm" in plan
        else:
            row = conn.execute(text(
                "EXPLAIN SELECT city_norm, count(*) FROM customers "
                "WHERE city_norm IS NOT NULL AND city_norm >= 'pu' AND city_norm < 'pv' "
                "GROUP BY city_norm")).mappings().first()
            assert row is not None
            assert row["key"] == "ix_customers_city_norm"


def test_unknown_field_has_no_suggestions(towns: Engine) -> None:
    with pytest.raises(ValueError, match="no suggestions for 'phone'"):
        suggest_values(towns, "phone", "9")


# --- problems in a marketer's words ---------------------------------------------------------


def c(field: str, operator: str, *value: Any) -> dict[str, Any]:
    return {"field": field, "operator": operator, **({"value": value[0]} if value else {})}


@pytest.mark.parametrize(("condition", "path", "sentence"), [
    (c("city", "in", []), (1,), "Pick at least one city"),
    (c("tags", "notIn", ["vip", " "]), (1,), "Remove the empty tag from the list"),
    (c("city", "=", " "), (1,), "Enter a city, or choose “is empty”"),
    (c("total_spend", ">", "abc"), (1,), "Enter an amount, like 5000"),
    (c("total_spend", ">", 10.555), (1,), "at most 2 decimals, like 499.99"),
    (c("visits", ">=", 2.5), (1,), "Enter a whole number, like 3"),
    (c("last_order_date", "<", "01/05/2026"), (1,), "Enter a date like 2026-05-01"),
    (c("signup_date", "between", ["2026-01-01", "soon"]), (1,),
     "Enter the end date like 2026-05-01"),
    (c("signup_date", "between", ["2026-02-01", "2026-01-01"]), (1,),
     "The start date must be on or before the end date"),
    (c("total_spend", "between", [500, 100]), (1,), "first number must not be larger"),
    (c("last_visit", "withinLast", {"amount": 0, "unit": "days"}), (1,),
     "as a whole number like 6"),
    (c("last_visit", "withinLast", {"amount": 6, "unit": "fortnights"}), (1,),
     "Pick days, weeks, months or years"),
    (c("subscribed", "=", "yes"), (1,), "Choose yes or no"),
    (c("total_spend", "contains", 5), (1,), "“contains” doesn't apply to total spend"),
    (c("city", "="), (1,), "Enter a city"),
])
def test_problems_in_a_marketers_words_keep_their_row(
        condition: dict[str, Any], path: Path, sentence: str) -> None:
    tree = {"rules": [c("city", "=", "Pune"), condition]}
    with pytest.raises(RuleError) as caught:
        parse_rule(tree)
    [problem] = explain_problems(caught.value, tree)
    assert sentence in problem.message
    assert problem.path == path
    assert problem.location.startswith("rules[1]")
    assert problem.detail in str(caught.value)


def test_problems_of_a_nested_row_and_of_the_tree() -> None:
    tree = {"rules": [{"combinator": "or", "rules": [c("visits", ">", 1),
                                                     c("city", "in", [])]}]}
    with pytest.raises(RuleError) as caught:
        parse_rule(tree)
    [problem] = explain_problems(caught.value, tree)
    assert (problem.path, problem.message) == ((0, 1), "Pick at least one city")
    deep: dict[str, Any] = {"rules": []}
    node = deep
    for _ in range(25):
        child: dict[str, Any] = {"rules": []}
        node["rules"].append(child)
        node = child
    with pytest.raises(RuleError) as caught:
        parse_rule(deep)
    assert "Too many groups inside one another" in explain_problems(caught.value, deep)[0].message


# --- leaving unset conditions out -----------------------------------------------------------


UNSET = [c("city", "="), c("city", "=", ""), c("name", "contains", "  "), c("city", "in", []),
         c("tags", "in", ["", " "]), c("total_spend", ">", None), c("visits", "=", ""),
         c("signup_date", "between", ["2026-01-01", ""]), c("total_spend", "between", []),
         c("last_visit", "withinLast", {"amount": None, "unit": "days"}),
         c("subscribed", "=", None)]
SET = [c("city", "null"), c("city", "notNull", ""), c("total_spend", ">", 0),
       c("subscribed", "=", False), c("tags", "in", ["vip", ""]), c("visits", "=", "0")]


def test_what_counts_as_unset() -> None:
    assert all(is_unset(cond) for cond in UNSET)
    assert not any(is_unset(cond) for cond in SET)


@PROPERTY_SETTINGS
@given(tree=trees())
def test_pruning_never_changes_a_tree_without_unset_conditions(tree: dict[str, Any]) -> None:
    before = copy.deepcopy(tree)
    pruned, left_out = prune_unset(tree)
    assert pruned == before
    assert left_out == []
    assert tree == before  # the input is not modified


@st.composite
def with_unset(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], list[Path]]:
    """(a tree, the same tree with unset conditions slipped in, their paths)."""
    tree = draw(trees())
    grown = copy.deepcopy(tree)
    groups = group_paths(grown)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(groups))
        rules = subtree(grown, where)["rules"]
        rules.insert(draw(st.integers(0, len(rules))), dict(draw(st.sampled_from(UNSET))))
        groups = group_paths(grown)
    inserted = [p for p in _condition_paths(grown) if is_unset(node_at_json(grown, p))]
    return tree, grown, inserted


def _condition_paths(tree: dict[str, Any], path: Path = ()) -> list[Path]:
    out: list[Path] = []
    for i, rule in enumerate(tree["rules"]):
        out += _condition_paths(rule, (*path, i)) if "rules" in rule else [(*path, i)]
    return out


def node_at_json(tree: dict[str, Any], path: Path) -> dict[str, Any]:
    return subtree(tree, path)


@PROPERTY_SETTINGS
@given(case=with_unset())
def test_unset_conditions_are_left_out_and_reported(
        random_db: tuple[Engine, dict[int, Person]],
        case: tuple[dict[str, Any], dict[str, Any], list[Path]]) -> None:
    engine, _ = random_db
    tree, grown, inserted = case
    pruned, left_out = prune_unset(grown)
    assert pruned == tree
    assert left_out == inserted
    assert count(engine, pruned) == count(engine, tree)
    builder = node_from_json(grown)  # the builder's own tree: each path names its row
    assert isinstance(builder, GroupNode)
    for path in left_out:
        row = node_at(builder, path)
        assert isinstance(row, ConditionNode)
        assert is_unset(row.to_json())


@PROPERTY_SETTINGS
@given(case=with_unset())
def test_draft_counts_are_keyed_by_the_builders_rows(
        random_db: tuple[Engine, dict[int, Person]],
        case: tuple[dict[str, Any], dict[str, Any], list[Path]]) -> None:
    engine, people = random_db
    _, grown, inserted = case
    builder = node_from_json(grown)
    assert isinstance(builder, GroupNode)
    found = draft_group_counts(engine, builder, as_of=AS_OF)
    assert found is not None
    counts, left_out = found
    assert left_out == inserted
    # A group with nothing active has no count (it would read as everyone's); the root has.
    assert set(counts) == {path for path in group_paths(grown)
                           if path == () or has_active(subtree(grown, path))}
    for path, n in counts.items():
        active, _ = prune_unset(subtree(grown, path))
        assert n == sum(matches(active, p, AS_OF) for p in people.values()), path


@pytest.mark.parametrize("inner", [
    [],
    [{"field": "city", "operator": "in", "value": []}],
    [{"combinator": "or", "rules": [{"field": "name", "operator": "contains", "value": " "}]}],
])
def test_a_group_with_nothing_active_has_no_count(
        random_db: tuple[Engine, dict[int, Person]], inner: list[dict[str, Any]]) -> None:
    engine, people = random_db
    tree = {"combinator": "and", "rules": [
        {"field": "city", "operator": "=", "value": "Pune"},
        {"combinator": "or", "rules": inner}]}
    builder = node_from_json(tree)
    assert isinstance(builder, GroupNode)
    found = draft_group_counts(engine, builder, as_of=AS_OF)
    assert found is not None
    counts, _ = found
    assert (1,) not in counts
    assert (1, 0) not in counts
    pune = {"combinator": "and", "rules": [tree["rules"][0]]}
    assert counts[()] == sum(matches(pune, p, AS_OF) for p in people.values())
