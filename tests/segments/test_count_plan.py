"""Planned counts (services/segments/count_plan.py): a sum of cheaper counts that must equal
the single WHERE's count and the reference evaluator's, on SQLite and MariaDB, for every
tree; and the shapes the benchmark times must really be rewritten, into index ranges."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from minicrm_desktop.models.engine_only import (
    LAST_ORDER_ACTIVITY_INDEX,
    ORDER_COUNT_CONSENT_INDEX,
    ORDER_COUNT_WALK_INDEX,
)
from minicrm_desktop.models.rules import Condition, RuleGroup, parse_rule
from minicrm_desktop.models.tables import customer_tags, customers_table, tags_table
from minicrm_desktop.services.segments import (
    audience_count_statement,
    count_audience,
    optimize_database,
)
from minicrm_desktop.services.segments.count_plan import (
    _MYSQL_WALK_VALUES,
    _conjuncts,
    _one_test,
    _served,
    _walk_values,
    plan_count,
    planned_count_statement,
    text_column_stats,
)
from minicrm_desktop.services.segments.queries import audience_where, count_statement
from tests.examples import examples

from .conftest import AS_OF, PROPERTY_SETTINGS
from .population import Person, insert_people
from .reference import matches
from .strategies import TAGS, _value, conditions, random_people, trees

PEOPLE = random_people(seed=20261203, n=160)

TAG_VIP = {"combinator": "and", "rules": [
    {"field": "tags", "operator": "contains", "value": "VIP"}]}
TAG_NOT_NEWSLETTER = {"combinator": "and", "rules": [
    {"field": "tags", "operator": "doesNotContain", "value": "newsletter"}]}
LAPSED = {"combinator": "and", "rules": [
    {"field": "last_order_date", "operator": "notWithinLast",
     "value": {"amount": 6, "unit": "months"}},
    {"field": "total_spend", "operator": ">", "value": 5000},
]}
AVG_OVER_1500 = {"combinator": "and", "rules": [
    {"field": "avg_order_value", "operator": ">", "value": 1500}]}
NESTED_3_LEVELS = {"combinator": "and", "rules": [
    {"field": "subscribed", "operator": "=", "value": True},
    {"combinator": "or", "rules": [
        {"field": "total_spend", "operator": ">=", "value": 20000},
        {"combinator": "and", "rules": [
            {"field": "order_count", "operator": ">=", "value": 3},
            {"field": "last_order_date", "operator": "withinLast",
             "value": {"amount": 90, "unit": "days"}},
        ]},
    ]},
]}


@pytest.fixture
def random_db(engine: Engine) -> tuple[Engine, dict[int, Person]]:
    ids = insert_people(engine, PEOPLE)
    return engine, {ids[p.email]: p for p in PEOPLE}


def single_where_count(engine: Engine, tree: dict[str, Any]) -> int:
    with engine.connect() as conn:
        stmt = count_statement(audience_where(engine, parse_rule(tree), AS_OF))
        return int(conn.execute(stmt).scalar_one())


def assert_counts_agree(engine: Engine, people: dict[int, Person], tree: dict[str, Any]) -> None:
    planned = count_audience(engine, parse_rule(tree), as_of=AS_OF)
    expected = sum(matches(tree, p, AS_OF) for p in people.values())
    assert planned == single_where_count(engine, tree) == expected, (
        plan_count(parse_rule(tree), engine.dialect.name).form)


# -- trees shaped like the ones the planner rewrites -----------------------------------------

#: Fields whose columns the covering indexes hold (the OR split needs them).
_INDEXED = ["subscribed", "total_spend", "order_count", "last_order_date", "avg_order_value",
            "visits", "signup_date"]


def _group_of(children: st.SearchStrategy[Any], combinator: str,
              size: tuple[int, int]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda neg, rules: {"combinator": combinator, "not": neg, "rules": rules},
                     st.booleans() if combinator == "and" else st.just(False),
                     st.lists(children, min_size=size[0], max_size=size[1]))


def or_under_and() -> st.SearchStrategy[dict[str, Any]]:
    """`R AND (B1 OR B2 ...)`, each branch a condition or a small AND (maybe negated)."""
    leaf = conditions(_INDEXED)
    branch = leaf | _group_of(leaf, "and", (1, 3))
    ors = _group_of(branch, "or", (2, 4))
    return st.builds(
        lambda rest, either, at: {"combinator": "and", "rules": [*rest[:at], either, *rest[at:]]},
        st.lists(leaf, max_size=3), ors, st.integers(0, 3))


@st.composite
def lone_tags(draw: st.DrawFn) -> dict[str, Any]:
    """One tag test, wrapped in groups (negated or not, with empty groups beside it)."""
    op = draw(st.sampled_from(["contains", "doesNotContain", "in", "notIn"]))
    value: Any = draw(st.sampled_from([*TAGS, "vi|p", "nobody"]))
    if op in ("in", "notIn"):
        value = draw(st.lists(st.sampled_from([*TAGS, "nobody"]), min_size=1, max_size=2))
    tree: dict[str, Any] = {"field": "tags", "operator": op, "value": value}
    for _ in range(draw(st.integers(1, 3))):
        empties = [{"combinator": "and", "rules": []}] * draw(st.integers(0, 1))
        tree = {"combinator": draw(st.sampled_from(["and", "or"])), "not": draw(st.booleans()),
                "rules": [tree, *empties]}
    return tree


def _one_tag_name(tree: dict[str, Any]) -> bool:
    while "rules" in tree:
        tree = tree["rules"][0]
    names = [tree["value"]] if isinstance(tree["value"], str) else tree["value"]
    return len({n.lower() for n in names if "|" not in n}) == 1


_LAST_ORDER_RANGES = ["=", "<", "<=", ">", ">=", "between", "withinLast"]


def split_trees() -> st.SearchStrategy[dict[str, Any]]:
    """`R AND (B1 OR ...)` that SQLite's plan must split: each branch seeks a last-order
    range and reads only columns ix_customers_last_order_us holds; R seeks nothing that
    covers the last order."""
    rest = conditions(["subscribed", "total_spend", "order_count"])
    seek = st.sampled_from(_LAST_ORDER_RANGES).flatmap(
        lambda op: _value("last_order_date", op).map(
            lambda v: {"field": "last_order_date", "operator": op, "value": v}))
    extra = conditions(["subscribed", "total_spend", "order_count", "last_order_date"])
    branch = st.builds(lambda first, more: {"combinator": "and", "rules": [first, *more]},
                       seek, st.lists(extra, max_size=2))
    ors = st.builds(lambda bs: {"combinator": "or", "rules": bs},
                    st.lists(branch, min_size=2, max_size=4))
    return st.builds(lambda r, either: {"combinator": "and", "rules": [*r, either]},
                     st.lists(rest, max_size=3), ors)


def walked_trees() -> st.SearchStrategy[dict[str, Any]]:
    """`subscribed = X AND order count in a range AND (B1 OR ...)`, each branch seeking a
    last-order range: on SQLite a part walks the order count through
    ix_customers_order_count_consent (perhaps over no value, or past the range's end)."""
    count_range = st.sampled_from(["<", "<=", ">", ">=", "between"]).flatmap(
        lambda op: _value("order_count", op).map(
            lambda v: {"field": "order_count", "operator": op, "value": v}))
    consent = st.booleans().map(
        lambda v: {"field": "subscribed", "operator": "=", "value": v})
    return st.builds(lambda c, n, either: {"combinator": "and", "rules": [c, n, either]},
                     consent, count_range, split_trees().map(lambda t: t["rules"][-1]))


def mysql_walk_trees() -> st.SearchStrategy[dict[str, Any]]:
    """`subscribed = X AND order count in a range AND last order seek`, or with an OR of
    last-order branches in place of the seek, reading only what
    ix_customers_order_count_walk holds: on MySQL a plain AND or a part walks it."""
    count_range = st.sampled_from(["<", "<=", ">", ">=", "between"]).flatmap(
        lambda op: _value("order_count", op).map(
            lambda v: {"field": "order_count", "operator": op, "value": v}))
    consent = st.booleans().map(
        lambda v: {"field": "subscribed", "operator": "=", "value": v})
    seek = st.sampled_from(_LAST_ORDER_RANGES).flatmap(
        lambda op: _value("last_order_date", op).map(
            lambda v: {"field": "last_order_date", "operator": op, "value": v}))
    extra = conditions(["subscribed", "order_count", "last_order_date"])
    branch = st.builds(lambda first, more: {"combinator": "and", "rules": [first, *more]},
                       seek, st.lists(extra, max_size=2))
    either = seek | st.builds(lambda bs: {"combinator": "or", "rules": bs},
                              st.lists(branch, min_size=2, max_size=3))
    return st.builds(lambda c, n, e: {"combinator": "and", "rules": [c, n, e]},
                     consent, count_range, either)


_OUTSIDE = ["notWithinLast", "notBetween", "!="]


def outside_trees() -> st.SearchStrategy[dict[str, Any]]:
    """`R AND last order outside a period` with R over columns ix_customers_last_order_us
    holds, in any order, maybe wrapped in a one-child group: SQLite must split the date."""
    rest = conditions(["subscribed", "total_spend", "order_count"])
    outside = st.sampled_from(_OUTSIDE).flatmap(
        lambda op: _value("last_order_date", op).map(
            lambda v: {"field": "last_order_date", "operator": op, "value": v}))
    return st.builds(
        lambda r, leaf, at, wrap: {"combinator": "and", "rules": [
            *r[:at], {"combinator": "or", "rules": [leaf]} if wrap else leaf, *r[at:]]},
        st.lists(rest, max_size=3), outside, st.integers(0, 3), st.booleans())


_AVERAGE_RANGES = ["=", "<", "<=", ">", ">=", "between"]


def average_trees() -> st.SearchStrategy[dict[str, Any]]:
    """`R AND average order value in a range` with R over columns
    ix_customers_avg_order_minor holds, in any order, maybe wrapped in a one-child group:
    SQLite must split the truncated average into its pieces."""
    rest = conditions(["total_spend", "order_count", "avg_order_value"])
    average = st.sampled_from(_AVERAGE_RANGES).flatmap(
        lambda op: _value("avg_order_value", op).map(
            lambda v: {"field": "avg_order_value", "operator": op, "value": v}))
    return st.builds(
        lambda r, leaf, at, wrap: {"combinator": "and", "rules": [
            *r[:at], {"combinator": "or", "rules": [leaf]} if wrap else leaf, *r[at:]]},
        st.lists(rest, max_size=2), average, st.integers(0, 2), st.booleans())


# -- properties -------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(tree=trees())
def test_planned_count_of_any_tree_is_the_single_where_and_the_reference(
    random_db: tuple[Engine, dict[int, Person]], tree: dict[str, Any]
) -> None:
    engine, people = random_db
    assert_counts_agree(engine, people, tree)


@settings(PROPERTY_SETTINGS, max_examples=examples(60))
@given(tree=or_under_and())
def test_planned_count_of_or_trees_is_exact(
    random_db: tuple[Engine, dict[int, Person]], tree: dict[str, Any]
) -> None:
    engine, people = random_db
    assert_counts_agree(engine, people, tree)


@settings(PROPERTY_SETTINGS, max_examples=examples(60))
@given(tree=split_trees())
def test_split_or_trees_are_split_and_exact(
    random_db: tuple[Engine, dict[int, Person]], tree: dict[str, Any]
) -> None:
    engine, people = random_db
    dialect = engine.dialect.name
    form = plan_count(parse_rule(tree), dialect).form
    # The spend index holds the last order itself (SQLite's since migration 0026 as its
    # integer): a tree whose R seeks the spend is one range of it, and stays whole.
    assert form == "disjoint branches" or _served(_conjuncts(parse_rule(tree)), dialect), form
    assert_counts_agree(engine, people, tree)


@settings(PROPERTY_SETTINGS, max_examples=examples(60))
@given(tree=walked_trees())
def test_walked_order_counts_are_exact(
    random_db: tuple[Engine, dict[int, Person]], tree: dict[str, Any]
) -> None:
    engine, people = random_db
    if engine.dialect.name == "sqlite":
        plan = plan_count(parse_rule(tree), "sqlite")
        assert plan.form == "disjoint branches", plan
        # Each part walks the count, unless its branch fixes the count (then it seeks it).
        assert all(part.walked or any(
            isinstance(c, Condition) and c.field == "order_count" and c.operator == "="
            for c in (part.tree.rules if part.tree else [])) for part in plan.parts), plan
    assert_counts_agree(engine, people, tree)


@settings(PROPERTY_SETTINGS, max_examples=examples(60))
@given(tree=mysql_walk_trees())
def test_mysql_walks_of_the_order_count_are_exact(
    random_db: tuple[Engine, dict[int, Person]], tree: dict[str, Any]
) -> None:
    engine, people = random_db
    plan = plan_count(parse_rule(tree), engine.dialect.name)
    if engine.dialect.name != "sqlite" and plan.form != "where":
        # Every walk is of the order count, one range per part (`_walked_statements`).
        assert all(len(part.walked) <= 1 for part in plan.parts), plan
    assert_counts_agree(engine, people, tree)


@settings(PROPERTY_SETTINGS, max_examples=examples(60))
@given(tree=outside_trees())
def test_dates_outside_a_period_are_split_into_ranges_on_sqlite_and_exact(
    random_db: tuple[Engine, dict[int, Person]], tree: dict[str, Any]
) -> None:
    engine, people = random_db
    if engine.dialect.name == "sqlite":
        assert plan_count(parse_rule(tree), "sqlite").form == "disjoint ranges"
    assert_counts_agree(engine, people, tree)


@settings(PROPERTY_SETTINGS, max_examples=examples(60))
@given(tree=average_trees())
def test_average_ranges_are_split_into_pieces_on_sqlite_and_exact(
    random_db: tuple[Engine, dict[int, Person]], tree: dict[str, Any]
) -> None:
    engine, people = random_db
    if engine.dialect.name == "sqlite":
        plan = plan_count(parse_rule(tree), "sqlite")
        assert plan.form == "disjoint ranges", plan
        assert plan.parts[0].average is not None, plan
    assert_counts_agree(engine, people, tree)


def test_average_pieces_at_their_bounds(engine: Engine) -> None:
    """Customers whose truncated average equals a bound, is one past it, or whose exact
    average is a hair either side of it (orders of 333 and 334 paise: 3.335): each piece
    and the exact test at the bound count them as the spec's total <op> V x count does."""
    amounts = [[333, 334], [333], [334], [333, 333, 334], [334, 334, 333], [150000],
               [150000, 150001], [149999, 150000], [150100], [149900], [-100], [0], []]
    people = [Person(email=f"a{i}-{j}@x.in", orders=[(a, AS_OF) for a in orders])
              for i, orders in enumerate(amounts) for j in range(2)]
    ids = insert_people(engine, people)
    by_id = {ids[p.email]: p for p in people}
    for op, value in ((">", 3.33), (">=", 3.34), ("<", 3.34), ("<=", 3.33), ("=", 3.34),
                      ("=", 3.33), ("between", [3.33, 3.34]), ("between", [3.34, 3.34]),
                      (">", 1500), (">=", 1500), ("<", 1500), ("<=", 1500),
                      ("between", [1499, 1501]), ("<", 0), (">", -1), ("between", [0, 0])):
        tree = {"combinator": "and", "rules": [
            {"field": "avg_order_value", "operator": op, "value": value}]}
        if engine.dialect.name == "sqlite":
            assert plan_count(parse_rule(tree), "sqlite").form == "disjoint ranges"
        assert_counts_agree(engine, by_id, tree)


@settings(PROPERTY_SETTINGS, max_examples=examples(60))
@given(tree=lone_tags())
def test_lone_tag_tests_count_link_rows_and_are_exact(
    random_db: tuple[Engine, dict[int, Person]], tree: dict[str, Any]
) -> None:
    engine, people = random_db
    form = plan_count(parse_rule(tree), engine.dialect.name).form
    if _one_tag_name(tree):
        assert form in ("tag links", "everyone minus tag links")
    else:
        assert form == "where"
    assert_counts_agree(engine, people, tree)


# -- the benchmark's shapes -------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["sqlite", "mysql"])
def test_benchmark_shapes_are_rewritten(dialect: str) -> None:
    def form(tree: dict[str, Any]) -> str:
        return plan_count(parse_rule(tree), dialect).form

    assert form(TAG_VIP) == "tag links"
    assert form(TAG_NOT_NEWSLETTER) == "everyone minus tag links"
    # The recent branch is a range of the index leading with the last order that holds
    # count and consent too (ix_customers_last_order_us; MySQL: ..._last_order_activity).
    assert form(NESTED_3_LEVELS) == "disjoint branches"
    # MySQL scans several ranges of one index natively; SQLite merges rowids instead.
    assert form(LAPSED) == ("disjoint ranges" if dialect == "sqlite" else "where")
    # SQLite: the truncated average strictly past the bound, then equal to it.
    assert form(AVG_OVER_1500) == ("disjoint ranges" if dialect == "sqlite" else "where")
    # Trees already served by one index keep their single WHERE.
    assert form({"combinator": "and", "rules": [
        {"field": "total_spend", "operator": ">=", "value": 100},
        {"combinator": "or", "rules": [
            {"field": "order_count", "operator": ">=", "value": 3},
            {"field": "subscribed", "operator": "=", "value": True}]}]}) == "where"
    assert form({"combinator": "and", "rules": [
        {"field": "tags", "operator": "in", "value": ["vip", "newsletter"]}]}) == "where"


@pytest.mark.parametrize("analyzed", [False, True])
def test_nested_parts_are_disjoint_ranges_of_covering_indexes(
    sqlite_engine: Engine, analyzed: bool
) -> None:
    """The recent branch walks the order counts (each found by a seek) and is, per count, a
    range of the last order in ix_customers_order_count_consent, with nothing else to test;
    the spend branch, with the recent one negated, is a range of the spend index (SQLite's
    since migration 0026, holding the last order as an integer). With or without planner
    statistics."""
    engine = sqlite_engine
    insert_people(engine, PEOPLE)
    if analyzed:
        optimize_database(engine)
    stmt = planned_count_statement(parse_rule(NESTED_3_LEVELS), AS_OF, "sqlite")
    plan = _sqlite_plan(engine, stmt)
    searches = [line for line in plan if line.startswith("SEARCH customers USING COVERING")]
    assert "SEARCH customers USING COVERING INDEX ix_customers_spend_consent " \
        "(total_spend_minor>?)" in searches, plan
    assert f"SEARCH customers USING COVERING INDEX {ORDER_COUNT_CONSENT_INDEX} (order_count=? " \
        "AND subscribed=? AND last_order_us>? AND last_order_us<?)" in searches, plan
    # The walk: the least count in the range, then the least above each one found.
    assert searches.count("SEARCH customers USING COVERING INDEX "
                          "ix_customers_order_count_total_spend_minor (order_count>?)") == 2, plan
    assert len(searches) == 4, plan
    assert not any(line.startswith("SCAN customers") for line in plan), plan
    walked, spend = plan_count(parse_rule(NESTED_3_LEVELS), "sqlite").parts
    assert walked.walked, walked
    assert walked.tree is not None
    assert not any(isinstance(r, RuleGroup) and r.negated for r in walked.tree.rules), walked
    assert not spend.walked, spend


def test_a_walk_finds_each_value_in_the_range_once(engine: Engine) -> None:
    """Order counts 0-6 with gaps (those with orders ordered today): the walk skips what
    is not there and stops past the range's end; a range holding no customer walks
    nothing."""
    people = [Person(email=f"c{n}-{i}@x.in", orders=[(100, AS_OF)] * n)
              for n in (0, 1, 2, 4, 6) for i in range(2)]
    insert_people(engine, people)
    for op, value, expected in ((">=", 2, 6), ("between", [1, 4], 6), ("<", 4, 4),
                                (">", 6, 0), ("between", [3, 3], 0), ("<=", 1, 2)):
        tree = {"combinator": "and", "rules": [
            {"field": "subscribed", "operator": "=", "value": True},
            {"field": "order_count", "operator": op, "value": value},
            {"combinator": "or", "rules": [
                {"field": "last_order_date", "operator": "withinLast",
                 "value": {"amount": 1, "unit": "days"}},
                {"field": "last_order_date", "operator": "<", "value": "2020-01-01"}]}]}
        parts = plan_count(parse_rule(tree), engine.dialect.name).parts
        assert any(part.walked for part in parts), parts
        assert count_audience(engine, parse_rule(tree), as_of=AS_OF) == expected, (op, value)
        assert single_where_count(engine, tree) == expected, (op, value)


def test_mysql_nested_parts_are_ranges_of_covering_indexes(mysql_engine: Engine) -> None:
    """On MariaDB too: the recent branch first, so the spend branch's part negates a group,
    not one test (NOT spend >= X is a range MariaDB took over the right one); the recent
    part walks the order count (migration 0027): one date range of
    ix_customers_order_count_walk per count, and one range for the counts past those."""
    engine = mysql_engine
    insert_people(engine, PEOPLE)
    optimize_database(engine)
    stmt = planned_count_statement(parse_rule(NESTED_3_LEVELS), AS_OF, engine.dialect.name)
    rows = [r for r in _mysql_plan(engine, stmt) if r["table"] == "customers"]
    assert len(rows) == _MYSQL_WALK_VALUES + 2, rows  # each count, the others, spend
    # 160 customers: MariaDB may read a part from either index that serves it (at a
    # million every count's part reads the walk index: measured, see count_plan.py).
    assert {r["key"] for r in rows} <= {ORDER_COUNT_WALK_INDEX, LAST_ORDER_ACTIVITY_INDEX,
                                         "ix_customers_spend_activity"}, rows
    assert ORDER_COUNT_WALK_INDEX in {r["key"] for r in rows}, rows
    assert all(r["type"] in ("range", "ref") and "Using index" in r["Extra"]
               for r in rows), rows
    assert "FORCE INDEX" not in str(stmt.compile(engine))  # no index named


@pytest.mark.parametrize(("op", "value", "expected"), [
    (">=", 3, list(range(3, 3 + _MYSQL_WALK_VALUES))),
    (">", 3, list(range(4, 4 + _MYSQL_WALK_VALUES))),
    ("between", [2, 5], [2, 3, 4, 5]),
    ("between", [1, 100], list(range(1, 1 + _MYSQL_WALK_VALUES))),
    ("<", 3, [0, 1, 2]),
    ("<=", 0, [0]),
    ("<", 0, []),
])
def test_mysql_walk_values_are_the_first_of_the_range(op: str, value: Any,
                                                      expected: list[int]) -> None:
    cond = Condition(field="order_count", operator=op, value=value)
    assert _walk_values(cond) == expected


def test_walks_count_past_the_listed_values_and_plain_ands_walk_on_mysql(
    engine: Engine,
) -> None:
    """Order counts 0-40 (more than the walk lists), subscribed or not, ordered recently or
    long ago: each count, the ranges past the listed values included, on both engines; a
    plain AND (no OR) walks on MySQL too (its single WHERE would read the count's range)."""
    recent, old = AS_OF, datetime(2020, 1, 1, tzinfo=UTC)
    people = [Person(email=f"c{n}-{sub}-{age}@x.in", subscribed=sub,
                     orders=[(100, recent if age == "new" else old)] * n)
              for n in range(41) for sub in (True, False) for age in ("new", "old")]
    insert_people(engine, people)
    optimize_database(engine)
    for op, value in ((">=", 3), (">", 0), ("between", [1, 40]), ("between", [35, 38]),
                      ("<", 2), ("<=", 40)):
        tree = {"combinator": "and", "rules": [
            {"field": "subscribed", "operator": "=", "value": True},
            {"field": "order_count", "operator": op, "value": value},
            {"field": "last_order_date", "operator": "withinLast",
             "value": {"amount": 30, "unit": "days"}}]}
        if engine.dialect.name != "sqlite":
            plan = plan_count(parse_rule(tree), engine.dialect.name)
            assert plan.form == "disjoint ranges", plan
            assert plan.parts[0].walked, plan
        expected = sum(matches(tree, p, AS_OF) for p in people)
        assert count_audience(engine, parse_rule(tree), as_of=AS_OF) == expected, (op, value)
        assert single_where_count(engine, tree) == expected, (op, value)


def test_mysql_nested_parts_negate_no_lone_test() -> None:
    """MariaDB took `NOT (spend >= X)`, the spend branch negated in the recent branch's
    part, as a range (spend < X, half the spend index at 1M) over the range serving that
    part: on MySQL the recent branch comes first, so only a group of tests is negated."""
    def negated_lone_tests(dialect: str) -> list[Any]:
        return [item for part in plan_count(parse_rule(NESTED_3_LEVELS), dialect).parts
                for item in (part.tree.rules if part.tree else [])
                if isinstance(item, RuleGroup) and item.negated
                and _one_test(item.rules[0])]

    assert negated_lone_tests("mysql") == []


def test_lapsed_parts_are_plain_ranges_of_the_last_order_index(sqlite_engine: Engine) -> None:
    stmt = planned_count_statement(parse_rule(LAPSED), AS_OF, "sqlite")
    plan = _sqlite_plan(sqlite_engine, stmt)
    searches = [line for line in plan if line.startswith("SEARCH customers USING COVERING")]
    assert len(searches) == 3, plan  # never ordered, before the six months, after now
    assert all("ix_customers_last_order_us (last_order_us" in line for line in searches), plan
    assert not any("MULTI-INDEX OR" in line for line in plan), plan
    assert not any(line.startswith("SCAN customers") for line in plan), plan


def test_average_pieces_are_ranges_of_the_average_index(sqlite_engine: Engine) -> None:
    """The inside piece is a bare range (no test left on its entries), the bound's piece an
    equality: both covered by ix_customers_avg_order_minor."""
    insert_people(sqlite_engine, PEOPLE)
    stmt = planned_count_statement(parse_rule(AVG_OVER_1500), AS_OF, "sqlite")
    plan = _sqlite_plan(sqlite_engine, stmt)
    searches = [line for line in plan if line.startswith("SEARCH customers USING COVERING")]
    assert searches == [
        "SEARCH customers USING COVERING INDEX ix_customers_avg_order_minor (avg_order_minor>?)",
        "SEARCH customers USING COVERING INDEX ix_customers_avg_order_minor (avg_order_minor=?)",
    ], plan
    inside = str(stmt.compile(sqlite_engine, compile_kwargs={"literal_binds": True}))
    first = inside.split(") + (")[0]
    assert "total_spend_minor" not in first, inside
    assert "order_count" not in first, inside


def test_tag_counts_read_the_link_index(random_db: tuple[Engine, dict[int, Person]]) -> None:
    engine, _ = random_db
    for tree in (TAG_VIP, TAG_NOT_NEWSLETTER):
        stmt = audience_count_statement(engine, parse_rule(tree), AS_OF)
        sql = str(stmt.compile(engine))
        assert "FROM customer_tags" in sql, sql
        assert "tags_norm" not in sql, sql
        if engine.dialect.name == "sqlite":
            plan = _sqlite_plan(engine, stmt)
            assert any("SEARCH customer_tags USING COVERING INDEX "
                       "ix_customer_tags_tag_id_customer_id (tag_id=?)" in line
                       for line in plan), plan
        else:
            rows = _mysql_plan(engine, stmt)
            link = [r for r in rows if r["table"] == "customer_tags"]
            assert link, rows
            assert all(r["key"] == "ix_customer_tags_tag_id_customer_id" for r in link), rows
            assert all(r["type"] == "ref" for r in link), rows


def test_link_rows_count_each_customer_once(engine: Engine) -> None:
    """What the tag plan relies on: one link row per (customer, tag), none dangling, and
    tags_norm saying the same as the links (after writes through the normal paths)."""
    insert_people(engine, PEOPLE)
    with engine.connect() as conn:
        links = conn.execute(select(customer_tags.c.customer_id, tags_table.c.name_norm)
                             .join(tags_table)).all()
        tags_norm = dict(conn.execute(select(customers_table.c.id,
                                             customers_table.c.tags_norm)).all())
    assert len(links) == len(set(links))
    assert {c for c, _ in links} <= set(tags_norm)
    for customer_id, name in links:
        assert f"|{name}|" in tags_norm[customer_id]
    assert sum(v.count("|") - 1 for v in tags_norm.values() if v) == len(links)


def _sqlite_plan(engine: Engine, stmt: Any) -> list[str]:
    compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        return [str(r[3]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")]


NAME_CONTAINS = {"combinator": "and", "rules": [
    {"field": "name", "operator": "contains", "value": "sha"}]}


@pytest.mark.parametrize("repeated", [True, False])
def test_mysql_contains_counts_through_distinct_values_where_they_repeat(
    mysql_engine: Engine, repeated: bool
) -> None:
    """A lone "name contains" on MariaDB: through the distinct names when the statistics
    say names repeat (here 375 customers a name), else every entry searched; the same count
    either way, NULL names and case included."""
    engine = mysql_engine
    names = ["Asha Rao", "Rahul SHARMA", "Priya Nair", None]
    people = [Person(email=f"p{i}@x.in", name=names[i % len(names)] if repeated else
                     (f"Name {i} sha" if i % 3 == 0 else f"Name {i}")) for i in range(1500)]
    people.append(Person(email="solo@x.in", name="Shane Warne"))
    insert_people(engine, people)
    optimize_database(engine)
    expected = sum(1 for p in people if p.name is not None and "sha" in p.name.lower())
    assert plan_count(parse_rule(NAME_CONTAINS), engine.dialect.name).form == "distinct matches"
    with engine.connect() as conn:
        through_values = conn.execute(select(text_column_stats("ix_customers_name_norm")))
        assert bool(through_values.scalar()) is repeated
    assert count_audience(engine, parse_rule(NAME_CONTAINS), as_of=AS_OF) == expected
    assert single_where_count(engine, NAME_CONTAINS) == expected
    negated = {"combinator": "and", "not": True, "rules": NAME_CONTAINS["rules"]}
    assert plan_count(parse_rule(negated), engine.dialect.name).form == "where"
    assert count_audience(engine, parse_rule(negated), as_of=AS_OF) == len(people) - expected


def test_contains_counts_through_distinct_values_on_mysql_only() -> None:
    assert plan_count(parse_rule(NAME_CONTAINS), "sqlite").form == "where"
    email = {"combinator": "and", "rules": [
        {"field": "email", "operator": "contains", "value": "sha"}]}
    assert plan_count(parse_rule(email), "mysql").form == "where"  # unique: nothing repeats


def _mysql_plan(engine: Engine, stmt: Any) -> list[dict[str, Any]]:
    compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        result = conn.exec_driver_sql(f"EXPLAIN {compiled}")
        return [dict(r._mapping) for r in result]


def test_the_planner_knows_only_indexes_the_database_has(engine: Engine) -> None:
    """The split trusts its model of each engine's indexes: every one must exist as modelled
    (a migration dropping or reordering one must update the model)."""
    from sqlalchemy import inspect

    from minicrm_desktop.services.segments.count_plan import _index_columns

    inspector = inspect(engine)
    present = {tuple(ix["column_names"]) for ix in inspector.get_indexes("customers")}
    present |= {tuple(uq["column_names"])
                for uq in inspector.get_unique_constraints("customers")}
    modelled = set(_index_columns(engine.dialect.name))
    assert modelled <= present, modelled - present


def test_a_lone_group_is_counted_as_planned_in_the_builder(
    random_db: tuple[Engine, dict[int, Person]],
) -> None:
    """The builder's per-group counts: a tree without subgroups is counted by the planned
    statement (the tag's link rows here), not by a scan of every customer."""
    from sqlalchemy import event

    from minicrm_desktop.services.segments.group_counts import group_counts

    engine, people = random_db
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        counts = group_counts(engine, parse_rule(TAG_VIP), as_of=AS_OF)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert counts == {(): sum(matches(TAG_VIP, p, AS_OF) for p in people.values())}
    assert any("FROM customer_tags" in s for s in seen), seen
    assert not any("tags_norm" in s for s in seen), seen
