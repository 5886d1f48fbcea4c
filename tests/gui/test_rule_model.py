"""The rule tree model: structure, undo/redo, drag and drop, keyboard moves, validation."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from minicrm_desktop.models.rule_tree import ConditionNode, GroupNode, node_at, tree_from_rule
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.views.segments.rule_model import (
    ERROR_COLOR,
    HINT_ROLE,
    INACTIVE_COLOR,
    INACTIVE_HINT,
    RuleTreeModel,
)
from minicrm_desktop.views.segments.rule_view import RuleTreeView

NESTED: dict[str, Any] = {"combinator": "and", "rules": [
    {"field": "total_spend", "operator": ">", "value": 5000},
    {"combinator": "or", "rules": [
        {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
        {"field": "tags", "operator": "contains", "value": "vip"},
    ]},
    {"combinator": "and", "not": True, "rules": [
        {"field": "last_order_date", "operator": "withinLast",
         "value": {"amount": 6, "unit": "months"}},
    ]},
]}


@pytest.fixture
def model(qtbot: QtBot) -> RuleTreeModel:
    model = RuleTreeModel()
    model.load(tree_from_rule(NESTED))
    return model


def shape(model: RuleTreeModel) -> Any:
    """The tree as plain JSON without the version key, for comparisons."""
    data = model.to_json()
    data.pop("version")
    return data


def test_model_passes_the_model_tester_while_edited(model: RuleTreeModel,
                                                    qtmodeltester: Any) -> None:
    qtmodeltester.check(model)  # stays attached: every edit below is checked too
    group = model.root.children[1]
    assert isinstance(group, GroupNode)
    model.add(group, ConditionNode("visits", ">=", 3))
    model.move(group.children[0], model.root, 0)
    model.remove(model.root.children[3])
    model.edit_group(group, "and", True)
    model.undo_stack.undo()
    model.undo_stack.undo()
    model.undo_stack.redo()
    model.replace_root(tree_from_rule({"combinator": "or", "rules": []}))
    model.undo_stack.undo()
    qtmodeltester.check(model)


def test_rows_read_as_words_and_nest(model: RuleTreeModel) -> None:
    assert model.rowCount() == 3
    assert model.data(model.index(0, 0)) == "Total spend more than ₹5,000.00"
    group = model.index(1, 0)
    assert model.data(group) == "ANY of these (OR)"
    assert model.rowCount(group) == 2
    assert model.data(model.index(0, 0, group)) == "City is one of Mumbai, Pune"
    assert model.data(model.index(1, 0, group)) == "Has tag vip"
    assert model.data(model.index(2, 0)) == "NOT — ALL of these (AND)"
    assert model.parent(model.index(0, 0, group)) == group


def test_building_a_tree_through_the_model(qtbot: QtBot) -> None:
    model = RuleTreeModel()
    assert parse_rule(model.to_json()) == parse_rule({"combinator": "and", "rules": []})
    city = ConditionNode("city", "=", "Pune")
    model.add(model.root, city)
    inner = GroupNode("or")
    model.add(model.root, inner)
    model.add(inner, ConditionNode("visits", ">", 2))
    model.add(inner, ConditionNode("subscribed", "=", True), row=0)
    model.edit_group(inner, "or", True)
    model.edit_condition(city, "city", "in", ["Pune", "Goa"])
    assert model.rule is not None
    assert model.rule == parse_rule({"combinator": "and", "rules": [
        {"field": "city", "operator": "in", "value": ["Pune", "Goa"]},
        {"combinator": "or", "not": True, "rules": [
            {"field": "subscribed", "operator": "=", "value": True},
            {"field": "visits", "operator": ">", "value": 2},
        ]},
    ]})


def test_undo_and_redo_replay_every_step(model: RuleTreeModel) -> None:
    snapshots = [shape(model)]
    group = model.root.children[1]
    assert isinstance(group, GroupNode)
    city = group.children[0]
    assert isinstance(city, ConditionNode)
    steps = [
        lambda: model.add(group, ConditionNode("visits", ">=", 3)),
        lambda: model.edit_group(group, "and", False),
        lambda: model.move(model.root.children[2], model.root, 0),
        lambda: model.remove(model.root.children[1]),
        lambda: model.edit_condition(city, "email", "endsWith", "@gmail.com"),
    ]
    for step in steps:
        step()
        snapshots.append(shape(model))
    assert len(set(map(repr, snapshots))) == len(snapshots)  # each step changed something
    stack = model.undo_stack
    assert stack.count() == len(steps)
    for expected in reversed(snapshots[:-1]):
        stack.undo()
        assert shape(model) == expected
    assert stack.isClean()
    for expected in snapshots[1:]:
        stack.redo()
        assert shape(model) == expected


def test_typing_a_value_is_one_undo_step(model: RuleTreeModel) -> None:
    node = model.root.children[0]
    assert isinstance(node, ConditionNode)
    for text in ("6", "60", "600", "6000"):
        model.edit_condition(node, "total_spend", ">", int(text), merge=True)
    assert model.undo_stack.count() == 1
    model.undo_stack.undo()
    assert node.value == 5000


def test_drag_and_drop_moves_a_condition_into_another_group(model: RuleTreeModel,
                                                            qtmodeltester: Any) -> None:
    qtmodeltester.check(model)
    source = model.index(0, 0)  # total spend
    target = model.index(2, 0)  # the NOT group
    mime = model.mimeData([source])
    assert model.canDropMimeData(mime, Qt.DropAction.MoveAction, 1, 0, target)
    assert model.dropMimeData(mime, Qt.DropAction.MoveAction, 1, 0, target)
    data = shape(model)
    assert [r.get("field", "group") for r in data["rules"]] == ["group", "group"]
    assert [r["field"] for r in data["rules"][1]["rules"]] == ["last_order_date",
                                                               "total_spend"]
    assert model.undo_stack.undoText() == "Move rule"
    model.undo_stack.undo()
    assert shape(model) == shape_of(NESTED)


def test_dropping_below_itself_in_the_same_group_moves_down(model: RuleTreeModel) -> None:
    mime = model.mimeData([model.index(0, 0)])
    # Row 2 of the root counts the dragged row itself: the node ends at row 1.
    assert model.dropMimeData(mime, Qt.DropAction.MoveAction, 2, 0, QModelIndex())
    assert model.data(model.index(1, 0)) == "Total spend more than ₹5,000.00"


def test_dropping_on_a_condition_lands_after_it(model: RuleTreeModel) -> None:
    group = model.index(1, 0)
    mime = model.mimeData([model.index(0, 0)])
    on_city = model.index(0, 0, group)
    assert model.dropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, on_city)
    group = model.index(0, 0)
    assert [model.data(model.index(r, 0, group)) for r in range(3)] == [
        "City is one of Mumbai, Pune", "Total spend more than ₹5,000.00", "Has tag vip"]


def test_a_group_cannot_be_dropped_into_itself(model: RuleTreeModel) -> None:
    group = model.index(1, 0)
    mime = model.mimeData([group])
    child = model.index(0, 0, group)
    assert not model.canDropMimeData(mime, Qt.DropAction.MoveAction, 0, 0, group)
    assert not model.dropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, child)
    assert model.undo_stack.count() == 0
    assert shape(model) == shape_of(NESTED)


def test_keyboard_moves_up_down_indent_and_outdent(model: RuleTreeModel, qtbot: QtBot) -> None:
    view = RuleTreeView(model)
    qtbot.addWidget(view)
    view.show()
    ctrl = Qt.KeyboardModifier.ControlModifier
    spend = model.root.children[0]
    view.select_node(spend)
    qtbot.keyClick(view, Qt.Key.Key_Down, ctrl)
    assert model.root.children[1] is spend
    qtbot.keyClick(view, Qt.Key.Key_Up, ctrl)
    assert model.root.children[0] is spend
    qtbot.keyClick(view, Qt.Key.Key_Down, ctrl)
    qtbot.keyClick(view, Qt.Key.Key_Down, ctrl)
    assert model.root.children[2] is spend
    qtbot.keyClick(view, Qt.Key.Key_Right, ctrl)  # into the group above it (the OR group)
    or_group = model.root.children[1]
    assert isinstance(or_group, GroupNode)
    assert or_group.children[-1] is spend
    assert view.current_node() is spend  # the selection follows the moved node
    qtbot.keyClick(view, Qt.Key.Key_Left, ctrl)  # out again, just after that group
    assert model.root.children[2] is spend
    qtbot.keyClick(view, Qt.Key.Key_Down, ctrl)  # already last: nothing happens
    assert model.root.children[2] is spend
    assert model.undo_stack.count() == 6  # the last, refused move added nothing


def test_validation_marks_the_offending_node(model: RuleTreeModel) -> None:
    group = model.root.children[1]
    assert isinstance(group, GroupNode)
    tag = group.children[1]
    assert isinstance(tag, ConditionNode)
    model.edit_condition(tag, "tags", "in", ["vip", "  "])
    assert model.rule is None
    assert model.draft_rule is None
    assert list(model.problems) == [(1, 1)]
    bad = model.index(1, 0, model.index(1, 0))
    assert model.data(bad, Qt.ItemDataRole.ToolTipRole) == "Remove the empty tag from the list"
    assert model.data(bad, Qt.ItemDataRole.ForegroundRole) == ERROR_COLOR
    good = model.index(0, 0, model.index(1, 0))
    assert model.data(good, Qt.ItemDataRole.ToolTipRole) is None
    assert model.data(good, Qt.ItemDataRole.ForegroundRole) is None
    assert node_at(model.root, (1, 1)) is tag
    model.edit_condition(tag, "tags", "contains", "vip")
    assert model.problems == {}
    assert model.rule is not None


def test_a_condition_without_a_value_is_inactive_not_wrong(model: RuleTreeModel) -> None:
    group = model.root.children[1]
    assert isinstance(group, GroupNode)
    tag = group.children[1]
    assert isinstance(tag, ConditionNode)
    whole = model.draft_rule
    model.edit_condition(tag, "tags", "contains", "")
    assert model.problems == {}
    assert model.rule is None  # not complete: not to be saved or launched as it stands
    assert model.draft_rule is not None  # but countable, without that row
    assert model.draft_rule != whole
    row = model.index(1, 0, model.index(1, 0))
    assert model.data(row, HINT_ROLE) == INACTIVE_HINT
    assert model.data(row, Qt.ItemDataRole.AccessibleTextRole) == "Has tag …, set a value"
    assert model.data(row, Qt.ItemDataRole.ForegroundRole) == INACTIVE_COLOR
    assert "left out" in model.data(row, Qt.ItemDataRole.ToolTipRole)
    model.edit_condition(tag, "tags", "contains", "vip")
    assert model.data(row, HINT_ROLE) is None
    assert model.draft_rule == whole


def shape_of(data: dict[str, Any]) -> Any:
    out = parse_rule(data).to_json()
    out.pop("version")
    return out
