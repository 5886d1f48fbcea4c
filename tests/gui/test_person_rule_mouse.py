"""The rule builder by mouse and the wizard's inline builder's other half (issue 17): the
context menu opened with a right click and an entry clicked; "Match ALL/ANY" chosen from
its drop-down with the mouse; a group with nothing active shows no count (not everyone's);
"Describe in words" in the wizard fills the rules from a sentence (the offline parser);
a rule saved as a segment in the wizard is listed on the Audience page on going Back.

Only keys and clicks act; asserts read what is shown."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu, QWizard
from pytestqt.qtbot import QtBot

from minicrm_desktop.app import AppContext
from minicrm_desktop.views.campaigns.wizard import CampaignWizard
from minicrm_desktop.views.segments.rule_editors import ChipListEditor
from minicrm_desktop.views.segments.rule_model import (
    EMPTY_GROUP_HINT,
    HINT_ROLE,
    INACTIVE_HINT,
)

from .person import LONG, PUNE, DialogLog, Key, Mod, answer_dialog, click, press
from .person import type_text as type_keys
from .test_person_rule_builder import (
    ALL_OF,
    ANY_OF,
    _chip_box,
    _click_row,
    _count,
    _open_segment,
    _rows,
    _segments_page,
    _shown,
)


def _click_menu_entry(seen: list[str], entry: str) -> None:
    """Once the popup menu is up, note its entries and click `entry` with the mouse."""

    def act() -> None:
        popup = QApplication.activePopupWidget()
        if not isinstance(popup, QMenu) or not popup.isVisible():
            QTimer.singleShot(20, act)
            return
        seen.append(" | ".join(a.text() for a in popup.actions()))
        action = next(a for a in popup.actions() if a.text() == entry)
        QTest.mouseClick(popup, Qt.MouseButton.LeftButton, Mod.NoModifier,
                         popup.actionGeometry(action).center())

    QTimer.singleShot(0, act)


def _right_click(view: Any, index: QModelIndex) -> None:
    """A right click on the row: the press, then the context-menu event the window system
    sends with it (QTest makes no such event itself), then the release."""
    viewport, pos = view.viewport(), view.visualRect(index).center()
    QTest.mousePress(viewport, Qt.MouseButton.RightButton, Mod.NoModifier, pos)
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                                       viewport.mapToGlobal(pos)))
    QTest.mouseRelease(viewport, Qt.MouseButton.RightButton, Mod.NoModifier, pos)


def test_context_menu_by_right_click_and_a_click_on_an_entry(person_app: AppContext,
                                                             qtbot: QtBot) -> None:
    page = _segments_page(person_app, qtbot)
    _open_segment(page, qtbot, LONG)
    before = _rows(page)
    seen: list[str] = []
    _click_menu_entry(seen, "&Wrap in a group")
    _right_click(page.tree, page.model.index(0, 0))
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None and bool(seen),
                    timeout=5_000)
    assert seen == ["Add &condition | Add &group |  | &Wrap in a group | &Negate (NOT) | "
                    "D&uplicate |  | &Delete"]
    assert page.model.index(0, 0).data() == "ALL of these (AND)"
    assert len(_rows(page)) == len(before) + 1
    # Then "Duplicate" on the condition inside, by the mouse too.
    inner = page.model.index(0, 0, page.model.index(0, 0))
    _click_menu_entry(seen, "D&uplicate")
    _right_click(page.tree, inner)
    qtbot.waitUntil(lambda: len(seen) == 2 and QApplication.activePopupWidget() is None,
                    timeout=5_000)
    assert page.model.rowCount(page.model.index(0, 0)) == 2
    assert [page.model.index(r, 0, page.model.index(0, 0)).data() for r in (0, 1)] == \
        ["City is Pune", "City is Pune"]
    assert _shown(page, qtbot) == f"{_count(person_app.engine, PUNE):,} customers"


def test_match_all_any_chosen_with_the_mouse(person_app: AppContext, qtbot: QtBot) -> None:
    page = _segments_page(person_app, qtbot)
    _open_segment(page, qtbot, LONG)
    _click_row(page, page.model.index(0, 0))
    press(Key.Key_Return, Mod.ControlModifier)  # a second condition: Mumbai
    qtbot.waitUntil(_chip_box(page).isVisible, timeout=5_000)
    click(_chip_box(page))
    type_keys("Mumbai")
    press(Key.Key_Return)
    both = {"combinator": "and", "rules": [PUNE["rules"][0], {
        "field": "city", "operator": "in", "value": ["Mumbai"]}]}
    assert _shown(page, qtbot) == f"{_count(person_app.engine, both):,} customers"

    combo = page.root_bar.combo
    click(combo)
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=5_000)
    row = view.visualRect(view.model().index(1, 0))
    # On the item's words (its rect may run past a narrow popup's right edge).
    at = QPoint(min(row.center().x(), view.viewport().width() // 2), row.center().y())

    def choose_any() -> bool:
        # A drop-down ignores a release right after it opened (so the opening click does
        # not choose): clicked again until it takes it, as a person would.
        if view.isVisible():
            QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Mod.NoModifier, at)
        return not view.isVisible()

    qtbot.waitUntil(choose_any, timeout=5_000)
    assert page.root_bar.text() == ANY_OF
    either = {**both, "combinator": "or"}
    assert _shown(page, qtbot) == f"{_count(person_app.engine, either):,} customers"
    click(page.undo_button)  # the switch is one undo step
    assert page.root_bar.text() == ALL_OF
    assert _shown(page, qtbot) == f"{_count(person_app.engine, both):,} customers"


def test_a_group_with_nothing_active_shows_no_count(person_app: AppContext,
                                                    qtbot: QtBot) -> None:
    page = _segments_page(person_app, qtbot)
    _open_segment(page, qtbot, LONG)
    pune = _count(person_app.engine, PUNE)
    _click_row(page, page.model.index(0, 0))
    press(Key.Key_Return, Mod.ControlModifier | Mod.ShiftModifier)  # a group, city unset
    group = page.model.index(1, 0)
    assert _shown(page, qtbot) == f"{pune:,} customers"
    qtbot.waitUntil(lambda: not page.live.pending, timeout=10_000)
    qtbot.waitUntil(lambda: page.model.counts != {}, timeout=10_000)  # the groups counted
    assert group.data(HINT_ROLE) == INACTIVE_HINT  # not everyone's count
    assert "customers" not in _rows(page)[1]

    # Its city set: its own count appears beside it.
    press(Key.Key_Down)
    qtbot.waitUntil(_chip_box(page).isVisible, timeout=5_000)
    click(_chip_box(page))
    type_keys("Delhi")
    press(Key.Key_Return)
    delhi = {"combinator": "or", "rules": [
        {"field": "city", "operator": "in", "value": ["Delhi"]}]}
    n = _count(person_app.engine, delhi)
    qtbot.waitUntil(lambda: group.data(HINT_ROLE) == f"{n:,} customers", timeout=10_000)

    # Its condition deleted: an empty group, no count either.
    _click_row(page, page.model.index(0, 0, group))
    press(Key.Key_Delete)
    qtbot.waitUntil(lambda: group.data(HINT_ROLE) == EMPTY_GROUP_HINT, timeout=10_000)
    assert _shown(page, qtbot) == f"{pune:,} customers"


def _wizard_rule_page(ctx: AppContext, qtbot: QtBot, name: str) -> CampaignWizard:
    window = ctx.window
    press(Key.Key_3, Mod.ControlModifier, window)
    click(window.campaigns_page.new_button)
    wizard = window.campaigns_page.wizard
    assert wizard is not None
    qtbot.waitExposed(wizard)
    qtbot.waitActive(wizard)
    click(wizard.basics.name_edit)
    type_keys(name, wizard.basics.name_edit)
    click(wizard.button(QWizard.WizardButton.NextButton))
    qtbot.waitUntil(lambda: wizard.audience_page.segment_list.count() == 2, timeout=10_000)
    radio = wizard.audience_page.rule_radio
    click(radio, QPoint(8, radio.height() // 2))
    click(wizard.button(QWizard.WizardButton.NextButton))
    qtbot.waitUntil(wizard.rule_page.isVisible, timeout=5_000)
    return wizard


def test_wizard_describe_in_words_fills_the_rules(person_app: AppContext,
                                                  qtbot: QtBot) -> None:
    wizard = _wizard_rule_page(person_app, qtbot, "Words")
    rules = wizard.rule_page
    panel = rules.describe_group
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    click(panel.text)
    type_keys("customers in Mumbai or Pune", panel.text)
    with qtbot.waitSignal(panel.finished, timeout=20_000):
        click(panel.fill_button)
    assert panel.engine_label.text() == "Answered by Offline parser"
    assert _rows_of(rules) == ["City is one of Mumbai, Pune"]
    assert rules.root_bar.text() == ALL_OF
    assert next_button.isEnabled()
    qtbot.waitUntil(lambda: not rules.live.pending, timeout=20_000)
    rule = {"combinator": "and", "rules": [
        {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]}]}
    assert rules.live.label.text() == f"{_count(person_app.engine, rule):,} customers"
    click(rules.undo_button)  # one undo step takes the sentence's rules away
    assert _rows_of(rules) == []


def _rows_of(rules: Any) -> list[str]:
    model, out = rules.model, []
    index = model.index(0, 0)
    while index.isValid():
        out.append(index.data())
        index = rules.tree.indexBelow(index)
    return out


def test_wizard_saved_segment_is_listed_on_going_back(person_app: AppContext,
                                                      qtbot: QtBot) -> None:
    wizard = _wizard_rule_page(person_app, qtbot, "Back again")
    rules = wizard.rule_page
    click(rules.add_condition_button)
    editor = rules.node_editor.condition_panel.value_editor
    assert isinstance(editor, ChipListEditor)
    click(editor.line)
    type_keys("Pune", editor.line)
    press(Key.Key_Return, widget=editor.line)
    log = DialogLog()
    answer_dialog(log, key=Key.Key_Return)  # the suggested name
    click(rules.save_segment_button)
    qtbot.waitUntil(lambda: rules.saved_message.text().startswith("Saved"), timeout=10_000)
    assert rules.saved_message.text() == "Saved as the segment “Back again audience”."

    click(wizard.button(QWizard.WizardButton.BackButton))
    audience = wizard.audience_page
    qtbot.waitUntil(audience.isVisible, timeout=5_000)
    shown = [audience.segment_list.item(r).text() for r in range(audience.segment_list.count())]
    assert shown == ["Back again audience", LONG, f"{LONG} (copy)"]
    assert audience.rule_radio.isChecked()  # the choice made stays
    # And it can be chosen at once.
    radio = audience.segment_radio
    click(radio, QPoint(8, radio.height() // 2))
    lst = audience.segment_list
    click(lst.viewport(), lst.visualItemRect(lst.item(0)).center())
    qtbot.waitUntil(lambda: not audience.live.pending, timeout=20_000)
    assert audience.live.label.text() == f"{_count(person_app.engine, PUNE):,} customers"
