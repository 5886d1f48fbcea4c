"""Editing a rule through the widgets: pickers, per-type value editors, group settings."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from minicrm_desktop.models.rule_tree import ConditionNode, GroupNode
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.models.rules_fields import FIELDS, OPERATORS
from minicrm_desktop.views.segments.page import SegmentsPage
from minicrm_desktop.views.segments.rule_editors import (
    BoolEditor,
    ChipListEditor,
    DateEditor,
    NumberEditor,
    PeriodEditor,
    RangeEditor,
    TagEditor,
    TextEditor,
)


def rules(page: SegmentsPage) -> list[Any]:
    return list(page.model.to_json()["rules"])


def pick(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def test_operators_offered_are_exactly_the_field_types(segments_page: SegmentsPage) -> None:
    page = segments_page
    page.add_condition()
    panel = page.node_editor.condition_panel
    assert page.node_editor.currentIndex() == 2
    for field, ftype in FIELDS.items():
        pick(panel.field_combo, field)
        assert panel.operators() == list(OPERATORS[ftype]), field
        assert rules(page)[0]["field"] == field


def test_each_type_gets_its_editor(segments_page: SegmentsPage) -> None:
    page = segments_page
    page.add_condition()
    panel = page.node_editor.condition_panel
    expected = {("name", "contains"): TextEditor, ("city", "in"): ChipListEditor,
                ("tags", "contains"): TagEditor, ("tags", "notIn"): ChipListEditor,
                ("visits", ">="): NumberEditor, ("signup_date", "<"): DateEditor,
                ("last_order_date", "withinLast"): PeriodEditor,
                ("subscribed", "="): BoolEditor, ("total_spend", "between"): RangeEditor}
    for (field, operator), kind in expected.items():
        pick(panel.field_combo, field)
        pick(panel.operator_combo, operator)
        assert isinstance(panel.value_editor, kind), (field, operator)
    pick(panel.field_combo, "city")
    pick(panel.operator_combo, "null")
    assert panel.value_editor is None  # null takes no value
    assert rules(page)[0] == {"field": "city", "operator": "null"}
    pick(panel.field_combo, "signup_date")
    pick(panel.operator_combo, "between")
    editor = panel.value_editor
    assert isinstance(editor, RangeEditor)
    assert isinstance(editor.low, DateEditor)
    assert isinstance(editor.high, DateEditor)


def test_money_shows_the_currency_and_two_decimals(segments_page: SegmentsPage) -> None:
    page = segments_page
    page.add_condition()
    panel = page.node_editor.condition_panel
    pick(panel.field_combo, "total_spend")
    editor = panel.value_editor
    assert isinstance(editor, NumberEditor)
    editor.spin.setValue(5000.5)
    assert editor.spin.text() == "₹ 5,000.50"
    assert rules(page)[0]["value"] == 5000.5
    pick(panel.field_combo, "order_count")
    counts = panel.value_editor
    assert isinstance(counts, NumberEditor)
    assert counts.spin.decimals() == 0
    assert counts.spin.prefix() == ""


def test_typing_chips_into_an_in_list_then_undo(segments_page: SegmentsPage,
                                                qtbot: QtBot) -> None:
    page = segments_page
    page.add_condition()
    panel = page.node_editor.condition_panel
    pick(panel.field_combo, "city")
    pick(panel.operator_combo, "in")
    assert page.model.rule is None  # an empty list is not a rule yet, only inactive …
    assert page.message.text() == ""
    assert page.problem_message() == "City is one of …: Set a value, or delete this condition"
    editor = panel.value_editor
    assert isinstance(editor, ChipListEditor)
    qtbot.keyClicks(editor.line, "Mumbai")
    qtbot.keyClick(editor.line, Qt.Key.Key_Return)
    qtbot.keyClicks(editor.line, "Pune,")  # a comma adds too
    assert rules(page)[0] == {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]}
    assert page.model.rule is not None
    assert page.message.text() == ""
    assert panel.value_editor is editor  # same field and operator: the editor stays
    assert editor.chip_texts() == ["Mumbai", "Pune"]
    editor.remove("Mumbai")
    assert rules(page)[0]["value"] == ["Pune"]
    page.undo_action.trigger()
    assert rules(page)[0]["value"] == ["Mumbai", "Pune"]
    assert editor.chip_texts() == ["Mumbai", "Pune"]  # the editor follows undo
    page.redo_action.trigger()
    assert rules(page)[0]["value"] == ["Pune"]


def test_text_period_date_and_yes_no_editors_write_contract_values(
        segments_page: SegmentsPage, qtbot: QtBot) -> None:
    page = segments_page
    page.add_condition()
    panel = page.node_editor.condition_panel
    pick(panel.field_combo, "email")
    pick(panel.operator_combo, "endsWith")
    editor = panel.value_editor
    assert isinstance(editor, TextEditor)
    qtbot.keyClicks(editor.line, "@gmail.com")
    assert page.model.undo_stack.undoText() == "Edit condition"
    pick(panel.field_combo, "last_order_date")
    pick(panel.operator_combo, "notWithinLast")
    period = panel.value_editor
    assert isinstance(period, PeriodEditor)
    period.amount.setValue(6)
    period.unit.setCurrentText("months")
    assert rules(page)[0]["value"] == {"amount": 6, "unit": "months"}
    pick(panel.operator_combo, ">=")
    date_editor = panel.value_editor
    assert isinstance(date_editor, DateEditor)
    date_editor.date.setDate(date_editor.date.date().fromString("2025-12-24",
                                                               Qt.DateFormat.ISODate))
    assert rules(page)[0]["value"] == "2025-12-24"
    pick(panel.field_combo, "subscribed")
    yes_no = panel.value_editor
    assert isinstance(yes_no, BoolEditor)
    yes_no.combo.setCurrentIndex(1)
    assert rules(page)[0] == {"field": "subscribed", "operator": "=", "value": False}
    assert page.model.rule is not None


def test_tag_pickers_offer_the_tags_that_exist(segments_page: SegmentsPage,
                                               seeded_engine: Any) -> None:
    with seeded_engine.connect() as conn:
        tags = list(conn.execute(text("SELECT name FROM tags ORDER BY name_norm")).scalars())
    assert tags
    assert segments_page.tags == tags
    page = segments_page
    page.add_condition()
    panel = page.node_editor.condition_panel
    pick(panel.field_combo, "tags")
    pick(panel.operator_combo, "contains")
    editor = panel.value_editor
    assert isinstance(editor, TagEditor)
    assert [editor.combo.itemText(i) for i in range(editor.combo.count())] == tags
    pick(panel.operator_combo, "in")
    chips = panel.value_editor
    assert isinstance(chips, ChipListEditor)
    completer = chips.line.completer()
    assert completer is not None
    assert completer.model().rowCount() == len(tags)


def test_group_panel_switches_and_or_and_not(segments_page: SegmentsPage) -> None:
    page = segments_page
    group = page.add_group()
    assert page.node_editor.currentIndex() == 1
    panel = page.node_editor.group_panel
    assert panel.any_button.isChecked()  # a new group is an OR of its conditions
    panel.all_button.click()
    panel.not_box.click()
    assert (group.combinator, group.negated) == ("and", True)
    assert page.model.data(page.model.index_of(group)) == "NOT — ALL of these (AND)"
    page.undo_action.trigger()
    assert (group.combinator, group.negated) == ("and", False)
    assert not panel.not_box.isChecked()
    page.add_condition_button.click()  # adds into the selected group
    assert len(group.children) == 2
    assert isinstance(group.children[1], ConditionNode)


def test_buttons_and_keys_build_and_delete(segments_page: SegmentsPage, qtbot: QtBot) -> None:
    page = segments_page
    page.add_condition_button.click()
    page.add_group_button.click()
    data = page.model.to_json()
    assert [r.get("combinator", r.get("field")) for r in data["rules"]] == ["city", "or"]
    group = page.model.root.children[1]
    assert isinstance(group, GroupNode)
    page.tree.select_node(group.children[0])
    page.tree.setFocus()
    qtbot.keyClick(page.tree, Qt.Key.Key_Delete)
    assert group.children == []
    page.tree.select_node(group)
    page.delete_button.click()
    assert len(page.model.root.children) == 1
    while page.model.undo_stack.canUndo():
        page.undo_action.trigger()
    assert page.model.root.children == []
    assert parse_rule(page.model.to_json()) == parse_rule({"combinator": "and", "rules": []})
