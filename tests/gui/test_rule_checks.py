"""The builder's check of a tree being edited: conditions without a value are inactive (no
problem, left out of the count), and a real problem is tied to the row the marketer sees,
however many inactive rows before it shift the rows of the tree that is checked."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from minicrm_desktop.models.rule_tree import (
    ConditionNode,
    GroupNode,
    Path,
    json_path,
    node_from_json,
    path_of,
)
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.models.rules_fields import NO_VALUE_OPERATORS
from minicrm_desktop.services.segments.pruning import prune_unset
from minicrm_desktop.views.segments.rule_checks import check_draft, problem_message
from tests.segments.conftest import PROPERTY_SETTINGS
from tests.segments.strategies import trees


def conditions_of(node: GroupNode) -> list[ConditionNode]:
    out: list[ConditionNode] = []
    for child in node.children:
        out += conditions_of(child) if isinstance(child, GroupNode) else [child]
    return out


@PROPERTY_SETTINGS
@given(tree=trees(), data=st.data())
def test_inactive_rows_are_left_out_and_problems_stay_on_their_rows(
        tree: dict[str, Any], data: st.DataObject) -> None:
    root = node_from_json({**tree, "version": 1})
    assert isinstance(root, GroupNode)
    valued = [c for c in conditions_of(root) if c.operator not in NO_VALUE_OPERATORS]
    blank = data.draw(st.lists(st.sampled_from(valued), unique=True) if valued
                      else st.just([]), label="blank")
    for condition in blank:
        condition.value = None
    blanked: set[Path] = {path_of(c) for c in blank}
    rest = [c for c in valued if c not in blank]  # a value: set, so not inactive
    broken = data.draw(st.none() | st.sampled_from(rest) if rest else st.none(),
                       label="broken")
    if broken is not None:
        broken.operator = "bogus"

    check = check_draft(root)
    assert check.inactive == blanked
    if broken is None:
        assert check.problems == {}
        assert check.draft_rule == parse_rule(prune_unset(root)[0])
        assert (check.rule is None) == bool(blank)
        assert problem_message(root, check) == ""
    else:
        where = path_of(broken)
        assert list(check.problems) == [where]
        assert check.problems[where].startswith(f"{json_path(where)}.operator: ")
        assert check.messages == {where: "Pick a comparison"}
        assert check.rule is None
        assert check.draft_rule is None
        assert problem_message(root, check).endswith(": Pick a comparison")


def test_saving_names_the_first_condition_waiting_for_a_value() -> None:
    root = GroupNode()
    root.insert(0, ConditionNode("total_spend", ">", 100))
    root.insert(1, ConditionNode("city", "in", []))
    root.insert(2, ConditionNode("tags", "contains", " "))
    check = check_draft(root)
    assert problem_message(root, check) == ""
    assert problem_message(root, check, inactive_too=True) == (
        "City is one of …: Set a value, or delete this condition (and 1 more)")
