"""Hostile input: quotes, wildcards, backslashes, SQL fragments and huge values are matched
literally or refused cleanly; deep and wide trees at the limits run, past them are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect

from minicrm_desktop.models.rules import MAX_CONDITIONS, MAX_DEPTH, RuleError, parse_rule
from minicrm_desktop.models.rules_values import MAX_TEXT_LENGTH
from minicrm_desktop.services.segments import compile_rule, count_audience

from .conftest import AS_OF, audience, cond, count, edge_people, where
from .population import Person, insert_people

NASTY = [
    "'", "''", '"', "%", "_", "\\", "\\%", "\\_", "/", "/%", "%%", "' OR '1'='1",
    "'; DROP TABLE customers; --", "\") OR 1=1 --", "\\' OR 1 --", "*/ SELECT 1 /*",
    "😀", "\u202e", "a" * MAX_TEXT_LENGTH,
]


@pytest.fixture
def nasty_db(engine: Engine) -> tuple[Engine, dict[str, int]]:
    people = edge_people() + [
        Person(f"n{i}@x.in", name=f"<{text}>"[:255], city=text[:255], tags=[f"t{text}"[:200]])
        for i, text in enumerate(NASTY) if text.strip()
    ]
    return engine, insert_people(engine, people)


@pytest.mark.parametrize("text", NASTY)
def test_hostile_values_match_literally(nasty_db: tuple[Engine, dict[str, int]], text: str) -> None:
    engine, ids = nasty_db
    by_id = {v: k for k, v in ids.items()}
    stored = {f"n{i}@x.in": t for i, t in enumerate(NASTY) if t.strip()}
    with_name = {e for e, t in stored.items() if text.lower() in f"<{t}>"[:255].lower()}
    assert {by_id[i] for i in audience(engine, where(cond("name", "contains", text)))} == (
        with_name | ({"pct@x.in"} if text.lower() in "100% _real_ o'brien \\ \"q\"" else set())
    )
    exact = {e for e, t in stored.items() if t[:255].lower() == text.lower()}
    assert {by_id[i] for i in audience(engine, where(cond("city", "=", text)))} == exact
    assert {by_id[i] for i in audience(engine, where(cond("city", "in", [text, "zz"])))} == exact
    label = f"t{text}"[:200]
    tagged = {e for e, t in stored.items() if f"t{t}"[:200].lower() == label.lower()}
    assert tagged
    assert {by_id[i] for i in audience(engine, where(cond("tags", "contains", label)))} == tagged
    # Nothing was executed: the tables are all still there, with every customer.
    assert "customers" in inspect(engine).get_table_names()
    assert count(engine, where()) == len(ids)


def test_values_travel_as_bound_parameters() -> None:
    tree = parse_rule(where(cond("name", "contains", "'; DROP TABLE customers; --"),
                            cond("tags", "in", ["x' OR '1'='1"]),
                            cond("total_spend", ">", "5000")))
    for dialect in ("sqlite", "mysql"):
        from sqlalchemy.dialects import mysql, sqlite

        sql = str(compile_rule(tree, AS_OF, dialect).compile(
            dialect=sqlite.dialect() if dialect == "sqlite" else mysql.dialect()))
        assert "DROP" not in sql
        assert "OR '1'" not in sql
        assert "500000" not in sql


@pytest.mark.parametrize(
    "field", ["name; DROP TABLE customers", "customers.id", "name_norm", "NAME", "", " name",
              "__class__", "x" * 10_000]
)
def test_hostile_field_names_are_refused(field: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_rule(where(cond(field, "=", "x")))
    assert str(info.value).startswith("rules[0].field: unknown field")
    assert len(str(info.value)) < 500


@pytest.mark.parametrize("operator", ["= 1 OR 1=1 --", "LIKE", "==", "", "Contains", "IS"])
def test_hostile_operators_are_refused(operator: str) -> None:
    with pytest.raises(RuleError, match=r"rules\[0\]\.operator: unknown operator"):
        parse_rule(where(cond("name", operator, "x")))


def test_nul_characters_are_refused() -> None:
    with pytest.raises(RuleError, match=r"rules\[0\]\.value: text contains a NUL character"):
        parse_rule(where(cond("name", "contains", "a\x00")))


def test_a_very_long_value_is_refused_cleanly() -> None:
    with pytest.raises(RuleError, match=f"longer than {MAX_TEXT_LENGTH} characters"):
        parse_rule(where(cond("name", "contains", "a" * (MAX_TEXT_LENGTH + 1))))
    with pytest.raises(RuleError, match="longer than"):
        parse_rule(where(cond("name", "=", "a" * 10_000_000)))


def _deep(depth: int, combinators: tuple[str, str] = ("and", "or")) -> dict:
    tree: dict = where(cond("visits", ">=", 0), cond("city", "contains", "ü"))
    for level in range(depth - 1):
        tree = {"combinator": combinators[level % 2], "not": level % 3 == 0,
                "rules": [tree, cond("total_spend", ">", level)]}
    return tree


def test_deep_and_wide_trees_at_the_limits_run(edge_db: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = edge_db
    from .reference import matches

    people = edge_people()
    for tree in (
        _deep(12), _deep(MAX_DEPTH),
        where(*[cond("visits", "!=", i) for i in range(MAX_CONDITIONS)], combinator="or"),
        where(*[cond("name", "doesNotContain", f"%{i}_") for i in range(MAX_CONDITIONS)]),
        where(*[where(cond("city", "in", [f"c{i}", "Pune"]), cond("tags", "contains", f"t{i}"),
                      combinator="or") for i in range(MAX_CONDITIONS // 2)]),
        where(*[cond("city", "notIn", [f"c{i}-{j}" for j in range(1000)]) for i in range(9)],
              cond("tags", "in", [f"t{j}" for j in range(999)] + ["VIP"])),
    ):
        expected = sum(1 for p in people if matches(tree, p, AS_OF))
        assert count(engine, tree) == expected


def test_trees_past_the_limits_are_refused_before_any_query() -> None:
    with pytest.raises(RuleError, match="nested more than"):
        parse_rule(_deep(32))
    with pytest.raises(RuleError, match="more than 1000 conditions"):
        parse_rule(where(*[cond("visits", "=", i) for i in range(2000)]))


def test_compiling_a_tree_built_in_code_still_checks_values(engine: Engine) -> None:
    from minicrm_desktop.models.rules import Condition, RuleGroup

    tree = RuleGroup(combinator="and", rules=[
        Condition.model_construct(field="visits", operator=">", value="many")])
    with pytest.raises(RuleError, match="expected a number"):
        count_audience(engine, tree)
