"""The rule builder as a marketer uses it (issue 17): Match ALL/ANY, a new condition that
stays inactive (and out of the counts) until its value is set, counts beside each group,
city suggestions from the database, the context menu by keyboard with undo, problems in a
marketer's words, and the wizard's inline builder with undo and "Save as segment…".

Only keys and clicks act; asserts read what is shown, and every count is checked against
the segment services' own count of the same rule.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtWidgets import QApplication, QWizard
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from minicrm_desktop.app import AppContext
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.segments import count_audience
from minicrm_desktop.services.segments.group_counts import draft_group_counts
from minicrm_desktop.services.segments.saved import list_segments
from minicrm_desktop.services.segments.suggestions import suggest_values
from minicrm_desktop.views.segments.page import SegmentsPage
from minicrm_desktop.views.segments.rule_editors import (
    ChipListEditor,
    RangeEditor,
    TextEditor,
)
from minicrm_desktop.views.segments.rule_model import HINT_ROLE, INACTIVE_COLOR, INACTIVE_HINT

from .person import LONG, PUNE, DialogLog, Key, Mod, answer_dialog, answer_popup, click, press
from .person import type_text as type_keys

ALL_OF = "Match ALL of the following"
ANY_OF = "Match ANY of the following"


def _segments_page(ctx: AppContext, qtbot: QtBot) -> SegmentsPage:
    press(Key.Key_2, Mod.ControlModifier, ctx.window)
    page = ctx.window.segments_page
    qtbot.waitUntil(lambda: page.isVisible() and page.segment_list.count() == 2,
                    timeout=10_000)
    return page


def _open_segment(page: SegmentsPage, qtbot: QtBot, name: str) -> None:
    lst = page.segment_list
    item = next(lst.item(r) for r in range(lst.count()) if lst.item(r).text() == name)
    click(lst.viewport(), lst.visualItemRect(item).center())
    qtbot.waitUntil(lambda: page.name_edit.text() == name, timeout=5_000)


def _count(engine: Engine, rule: dict[str, Any]) -> int:
    return count_audience(engine, parse_rule(rule))


def _shown(page: SegmentsPage, qtbot: QtBot) -> str:
    """The audience count once it settled."""
    qtbot.waitUntil(lambda: not page.live.pending, timeout=20_000)
    return page.live.label.text()


def _click_row(page: SegmentsPage, index: QModelIndex) -> None:
    tree = page.tree
    click(tree.viewport(), tree.visualRect(index).center())
    assert tree.hasFocus()


def _chip_box(page: SegmentsPage) -> Any:
    editor = page.node_editor.condition_panel.value_editor
    assert isinstance(editor, ChipListEditor)
    return editor.line


def _rows(page: SegmentsPage) -> list[str]:
    """Each row as a person reads it, hint included ("… · set a value")."""
    out: list[str] = []
    index = page.model.index(0, 0)
    while index.isValid():
        hint = index.data(HINT_ROLE)
        out.append(index.data() + (f" · {hint}" if hint else ""))
        index = page.tree.indexBelow(index)
    return out


def test_all_any_inactive_condition_and_group_counts(person_app: AppContext,
                                                     qtbot: QtBot) -> None:
    engine = person_app.engine
    page = _segments_page(person_app, qtbot)
    _open_segment(page, qtbot, LONG)  # city is Pune
    pune = _count(engine, PUNE)
    assert _shown(page, qtbot) == f"{pune:,} customers"
    assert page.root_bar.text() == ALL_OF

    # A new condition: greyed, "set a value", and the count does not move.
    _click_row(page, page.model.index(0, 0))
    press(Key.Key_Return, Mod.ControlModifier)
    new = page.model.index(1, 0)
    assert new.data(HINT_ROLE) == INACTIVE_HINT
    assert new.data(Qt.ItemDataRole.ForegroundRole) == INACTIVE_COLOR
    assert _shown(page, qtbot) == f"{pune:,} customers"
    assert page.message.text() == ""  # not an error

    # Its value set: active, counted (Pune and Mumbai at once: nobody).
    click(_chip_box(page))
    type_keys("Mumbai")
    press(Key.Key_Return)
    assert new.data(HINT_ROLE) is None
    both = {"combinator": "and", "rules": [PUNE["rules"][0], {
        "field": "city", "operator": "in", "value": ["Mumbai"]}]}
    assert _shown(page, qtbot) == f"{_count(engine, both):,} customers"

    # ALL → ANY by keyboard (Alt+M, Down): the count follows; Ctrl+Z brings ALL back.
    press(Key.Key_M, Mod.AltModifier, person_app.window)
    assert page.root_bar.combo.hasFocus()
    press(Key.Key_Down)
    assert page.root_bar.text() == ANY_OF
    either = _count(engine, {**both, "combinator": "or"})
    assert either > pune
    assert _shown(page, qtbot) == f"{either:,} customers"
    press(Key.Key_Z, Mod.ControlModifier)
    assert page.root_bar.text() == ALL_OF
    assert _shown(page, qtbot) == f"{_count(engine, both):,} customers"
    press(Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)
    assert page.root_bar.text() == ANY_OF

    # A group after the first row, its city set: its own count beside it, and the total.
    _click_row(page, page.model.index(0, 0))
    press(Key.Key_Return, Mod.ControlModifier | Mod.ShiftModifier)
    group = page.model.index(1, 0)
    assert group.data().startswith("ANY of these")
    press(Key.Key_Down)  # to the group's condition
    click(_chip_box(page))
    type_keys("Delhi")
    press(Key.Key_Return)
    delhi = {"field": "city", "operator": "in", "value": ["Delhi"]}
    total = _count(engine, {"combinator": "or", "rules": [
        PUNE["rules"][0], {"combinator": "or", "rules": [delhi]}, both["rules"][1]]})
    assert _shown(page, qtbot) == f"{total:,} customers"
    by_service = draft_group_counts(engine, page.model.to_json())
    assert by_service is not None
    assert by_service[0][(1,)] == _count(engine, {"combinator": "or", "rules": [delhi]})
    qtbot.waitUntil(lambda: group.data(HINT_ROLE) == f"{by_service[0][(1,)]:,} customers",
                    timeout=10_000)
    assert by_service[0][()] == total

    # Another condition in the group: the group's count changes once it is set.
    _click_row(page, page.model.index(0, 0, group))
    press(Key.Key_Return, Mod.ControlModifier)
    assert page.message.text() == ""
    rows = _rows(page)
    assert rows[3].endswith(INACTIVE_HINT)
    click(_chip_box(page))
    type_keys("Kochi")
    press(Key.Key_Return)
    kochi = {"field": "city", "operator": "in", "value": ["Kochi"]}
    grown = _count(engine, {"combinator": "or", "rules": [delhi, kochi]})
    qtbot.waitUntil(lambda: group.data(HINT_ROLE) == f"{grown:,} customers", timeout=10_000)
    with_kochi = total + _count(engine, {"combinator": "or", "rules": [kochi]})
    assert _shown(page, qtbot) == f"{with_kochi:,} customers"


def test_the_city_box_suggests_cities_from_the_database(person_app: AppContext,
                                                        qtbot: QtBot) -> None:
    page = _segments_page(person_app, qtbot)
    press(Key.Key_N, Mod.ControlModifier, person_app.window)  # a new segment
    click(page.tree.viewport())
    press(Key.Key_Return, Mod.ControlModifier)
    box = _chip_box(page)
    click(box)
    type_keys("pu")
    completer = box.completer()
    assert completer is not None
    popup = completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=10_000)
    offered = [completer.completionModel().index(r, 0).data()
               for r in range(completer.completionModel().rowCount())]
    assert offered == ["Pune"]  # as written in the database, though typed in lower case
    press(Key.Key_Down, widget=popup)
    press(Key.Key_Return, widget=popup)
    qtbot.waitUntil(lambda: page.model.to_json()["rules"][0].get("value") == ["Pune"],
                    timeout=5_000)
    assert _shown(page, qtbot) == f"{_count(person_app.engine, PUNE):,} customers"


def test_the_email_box_suggests_domains_for_ends_with(person_app: AppContext,
                                                      qtbot: QtBot) -> None:
    page = _segments_page(person_app, qtbot)
    press(Key.Key_N, Mod.ControlModifier, person_app.window)
    click(page.tree.viewport())
    press(Key.Key_Return, Mod.ControlModifier)
    panel = page.node_editor.condition_panel
    press(Key.Key_Tab)
    type_keys("Em")
    assert panel.field_combo.currentText() == "Email"
    press(Key.Key_Tab)
    type_keys("ends")
    assert panel.operator_combo.currentText() == "ends with"
    editor = panel.value_editor
    assert isinstance(editor, TextEditor)
    qtbot.waitUntil(editor.line.isVisible, timeout=5_000)
    press(Key.Key_Tab)
    assert editor.line.hasFocus()
    type_keys("ex")
    completer = editor.line.completer()
    assert completer is not None
    popup = completer.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible, timeout=10_000)
    offered = [completer.completionModel().index(r, 0).data()
               for r in range(completer.completionModel().rowCount())]
    expected = [s.value for s in suggest_values(person_app.engine, "email_domain", "ex",
                                                limit=12)]
    assert expected
    assert offered == expected


# (menu entry, shortcut on the tree or None, rows added, what the first row reads after)
MENU_ACTIONS = [
    ("Add &condition", None, 1, "City is Pune"),
    ("Add &group", None, 2, "City is Pune"),
    ("&Wrap in a group", (Key.Key_G, Mod.ControlModifier), 1, "ALL of these (AND)"),
    ("&Negate (NOT)", (Key.Key_N, Mod.ControlModifier | Mod.ShiftModifier), 1,
     "NOT — ALL of these (AND)"),
    ("D&uplicate", (Key.Key_D, Mod.ControlModifier), 1, "City is Pune"),
    ("&Delete", (Key.Key_Delete, Mod.NoModifier), -1, None),
]


# Each entry by the menu key and by Shift+F10; those with a key of their own by it too
# (adding has the page's Ctrl+Enter keys, used in the first test).
CASES = [pytest.param(opener, *action, id=f"{action[0].replace('&', '')}-{opener}")
         for action in MENU_ACTIONS for opener in ("menu key", "shift+f10", "shortcut")
         if opener != "shortcut" or action[1] is not None]


@pytest.mark.parametrize(("opener", "entry", "keys", "added", "first"), CASES)
def test_each_context_menu_action_by_keyboard_then_undo(
        person_app: AppContext, qtbot: QtBot, opener: str, entry: str, keys: Any,
        added: int, first: str | None) -> None:
    page = _segments_page(person_app, qtbot)
    _open_segment(page, qtbot, LONG)
    _click_row(page, page.model.index(0, 0))
    before, rows = page.model.to_json(), _rows(page)
    if opener == "shortcut":
        press(keys[0], keys[1])
    else:
        log = DialogLog()
        answer_popup(log, choose=entry)
        if opener == "menu key":
            press(Key.Key_Menu)
        else:
            press(Key.Key_F10, Mod.ShiftModifier)
        assert log.seen == ["Add &condition | Add &group |  | &Wrap in a group | "
                            "&Negate (NOT) | D&uplicate |  | &Delete"]
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None
                    and page.tree.hasFocus(), timeout=5_000)  # the keys go on to the tree
    after = page.model.to_json()
    assert len(_rows(page)) == len(rows) + added
    first_row = page.model.index(0, 0).data() if page.model.rowCount() else None
    assert first_row == first
    assert page.tree.hasFocus()
    press(Key.Key_Z, Mod.ControlModifier)
    assert page.model.to_json() == before
    assert _rows(page) == rows
    press(Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)
    assert page.model.to_json() == after


def test_negating_a_negated_condition_takes_the_not_away(person_app: AppContext,
                                                          qtbot: QtBot) -> None:
    page = _segments_page(person_app, qtbot)
    _open_segment(page, qtbot, LONG)
    pune = _count(person_app.engine, PUNE)
    _click_row(page, page.model.index(0, 0))
    press(Key.Key_N, Mod.ControlModifier | Mod.ShiftModifier)
    total = _count(person_app.engine, {"combinator": "and", "rules": []})
    assert _shown(page, qtbot) == f"{total - pune:,} customers"
    press(Key.Key_N, Mod.ControlModifier | Mod.ShiftModifier)  # the condition is selected
    assert _rows(page)[0].startswith("City is Pune")
    assert len(_rows(page)) == 1
    assert _shown(page, qtbot) == f"{pune:,} customers"


def test_a_bad_range_is_said_in_a_marketers_words(person_app: AppContext,
                                                   qtbot: QtBot) -> None:
    page = _segments_page(person_app, qtbot)
    press(Key.Key_N, Mod.ControlModifier, person_app.window)
    click(page.tree.viewport())
    press(Key.Key_Return, Mod.ControlModifier)
    panel = page.node_editor.condition_panel
    press(Key.Key_Tab)  # from the tree to the field
    assert panel.field_combo.hasFocus()
    type_keys("To")  # keyboard search
    assert panel.field_combo.currentText() == "Total spend"
    press(Key.Key_Tab)
    assert panel.operator_combo.hasFocus()
    type_keys("b")
    assert panel.operator_combo.currentText() == "between"
    editor = panel.value_editor
    assert isinstance(editor, RangeEditor)
    low = editor.low.spin  # type: ignore[attr-defined]
    qtbot.waitUntil(low.isVisible, timeout=5_000)  # shown once the layout has run
    press(Key.Key_Tab)
    assert low.hasFocus()
    press(Key.Key_A, Mod.ControlModifier)
    type_keys("500")
    expected = ("Total spend between ₹500.00 and ₹100.00: "
                "The first number must not be larger than the second")
    assert page.message.text() == expected
    assert page.live.label.text() == expected
    assert page.model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == \
        "The first number must not be larger than the second"
    press(Key.Key_S, Mod.ControlModifier)  # save: refused, in the same words
    assert page.message.text() == "Cannot save: " + expected


def test_wizard_inline_builder_undo_and_save_as_segment(person_app: AppContext,
                                                         qtbot: QtBot) -> None:
    window = person_app.window
    press(Key.Key_3, Mod.ControlModifier, window)
    click(window.campaigns_page.new_button)
    wizard = window.campaigns_page.wizard
    assert wizard is not None
    qtbot.waitExposed(wizard)
    qtbot.waitActive(wizard)
    click(wizard.basics.name_edit)
    type_keys("Pune spring", wizard.basics.name_edit)
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    click(next_button)
    radio = wizard.audience_page.rule_radio
    click(radio, QPoint(8, radio.height() // 2))  # on its circle
    click(next_button)
    rules = wizard.rule_page
    qtbot.waitUntil(rules.isVisible, timeout=5_000)
    assert rules.root_bar.text() == ALL_OF
    assert rules.describe_group.isVisible()  # "Describe in words" here too

    click(rules.add_condition_button)
    assert not next_button.isEnabled()
    assert rules.message.text() == "City is one of …: Set a value, or delete this condition"
    editor = rules.node_editor.condition_panel.value_editor
    assert isinstance(editor, ChipListEditor)
    click(editor.line)
    type_keys("Pune", editor.line)
    press(Key.Key_Return, widget=editor.line)
    assert next_button.isEnabled()
    qtbot.waitUntil(lambda: not rules.live.pending, timeout=20_000)
    pune = _count(person_app.engine, PUNE)
    assert rules.live.label.text() == f"{pune:,} customers"

    click(rules.tree.viewport())
    press(Key.Key_Z, Mod.ControlModifier, rules.tree)  # the value unset again: no Next
    assert not next_button.isEnabled()
    press(Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier, rules.tree)
    assert next_button.isEnabled()
    click(rules.undo_button)
    assert not next_button.isEnabled()
    click(rules.redo_button)
    assert next_button.isEnabled()

    log = DialogLog()
    answer_dialog(log, key=Key.Key_Return)  # the suggested name
    click(rules.save_segment_button)
    qtbot.waitUntil(lambda: rules.saved_message.text().startswith("Saved"), timeout=10_000)
    assert rules.saved_message.text() == "Saved as the segment “Pune spring audience”."
    assert "Save as segment" in log.seen[0]
    answer_dialog(log, key=Key.Key_Return)  # the same name again
    click(rules.save_segment_button)
    qtbot.waitUntil(lambda: "already exists" in rules.saved_message.text(), timeout=10_000)
    assert rules.saved_message.text() == ("A segment named “Pune spring audience” already "
                                          "exists: choose another name.")
    stored = [s for s in list_segments(person_app.engine) if s.name == "Pune spring audience"]
    assert len(stored) == 1
    assert stored[0].rule == parse_rule({"combinator": "and", "rules": [
        {"field": "city", "operator": "in", "value": ["Pune"]}]})

    press(Key.Key_Escape, widget=wizard)
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=5_000)
    page = window.segments_page
    press(Key.Key_2, Mod.ControlModifier, window)
    qtbot.waitUntil(lambda: "Pune spring audience" in [
        page.segment_list.item(r).text() for r in range(page.segment_list.count())],
        timeout=10_000)
