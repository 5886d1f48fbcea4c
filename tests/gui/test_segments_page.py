"""The Segments page: saved segments round trip, unsaved changes, JSON in and out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from minicrm_desktop.app import AppContext
from minicrm_desktop.models.rule_tree import tree_from_rule
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.segments.saved import (
    create_segment,
    get_segment,
    list_segments,
)
from minicrm_desktop.views.segments.dialogs import (
    ConfirmDeleteDialog,
    OpenRuleJsonDialog,
    SaveRuleJsonDialog,
    SegmentNameDialog,
    Unsaved,
    UnsavedChangesDialog,
)
from minicrm_desktop.views.segments.page import SegmentsPage

from .conftest import close_segments_page, open_segments_page

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
def page(engine: Engine, runner: TaskRunner, bus: EventBus,
         qtbot: QtBot) -> Iterator[SegmentsPage]:
    create_segment(engine, "Pune shoppers", {"combinator": "and", "rules": [
        {"field": "city", "operator": "=", "value": "Pune"}]}, actor=LOCAL_ADMIN)
    page = open_segments_page(engine, runner, bus, qtbot)
    yield page
    close_segments_page(page, qtbot)


def answer(monkeypatch: pytest.MonkeyPatch, dialog: type, *answers: Any) -> list[Any]:
    """Make `dialog.ask` return `answers` in turn; returns the log of what was asked."""
    asked: list[Any] = []
    queue = list(answers)

    def ask(cls: type, parent: QWidget | None, *args: Any) -> Any:
        asked.append(args)
        return queue.pop(0)

    monkeypatch.setattr(dialog, "ask", classmethod(ask))
    return asked


def list_names(page: SegmentsPage) -> list[str]:
    return [page.segment_list.item(r).text() for r in range(page.segment_list.count())]


def test_save_rename_duplicate_delete_round_trip(page: SegmentsPage, engine: Engine,
                                                 bus: EventBus, qtbot: QtBot,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert list_names(page) == ["Pune shoppers"]
    page.new_segment()
    page.model.replace_root(tree_from_rule(NESTED))
    page.name_edit.setText("Lapsed big spenders")
    assert page.dirty
    published: list[int] = []
    bus.segment_saved.connect(published.append)
    with qtbot.waitSignals([bus.segment_saved, page.segments_loaded], timeout=10_000):
        page.save_action.trigger()  # Ctrl+S
    [segment_id] = published
    stored = get_segment(engine, segment_id)
    assert stored.name == "Lapsed big spenders"
    assert stored.rule == parse_rule(NESTED)
    assert not page.dirty
    assert page.current_id == segment_id
    assert list_names(page) == ["Lapsed big spenders", "Pune shoppers"]
    assert page.segment_list.currentItem().text() == "Lapsed big spenders"

    answer(monkeypatch, SegmentNameDialog, "Lapsed VIPs")
    with qtbot.waitSignal(page.segments_loaded, timeout=10_000):
        page.rename_button.click()
    assert get_segment(engine, segment_id).name == "Lapsed VIPs"
    assert page.name_edit.text() == "Lapsed VIPs"
    assert not page.dirty

    with qtbot.waitSignal(page.segments_loaded, timeout=10_000):
        page.duplicate_button.click()
    copy = next(s for s in list_segments(engine) if s.name == "Lapsed VIPs (copy)")
    assert copy.rule == parse_rule(NESTED)
    assert page.current_id == copy.id  # the copy opens, ready to edit

    asked = answer(monkeypatch, ConfirmDeleteDialog, False, True)
    page.delete_segment_button.click()  # "no": nothing happens
    assert {s.name for s in list_segments(engine)} == {"Lapsed VIPs", "Lapsed VIPs (copy)",
                                                       "Pune shoppers"}
    with qtbot.waitSignal(page.segments_loaded, timeout=10_000):
        page.delete_segment_button.click()
    assert asked == [("Lapsed VIPs (copy)",), ("Lapsed VIPs (copy)",)]
    assert {s.name for s in list_segments(engine)} == {"Lapsed VIPs", "Pune shoppers"}
    assert page.current_id is None  # the deleted segment was open: a new one replaces it
    assert list_names(page) == ["Lapsed VIPs", "Pune shoppers"]
    assert published == [segment_id, segment_id, copy.id]  # saved, renamed, duplicated


def test_opening_a_segment_shows_its_rule(page: SegmentsPage, qtbot: QtBot) -> None:
    page.segment_list.setCurrentRow(0)
    assert page.name_edit.text() == "Pune shoppers"
    assert page.model.rule == parse_rule({"combinator": "and", "rules": [
        {"field": "city", "operator": "=", "value": "Pune"}]})
    assert not page.model.undo_stack.canUndo()  # opening is not an edit
    assert not page.dirty


def test_unsaved_changes_are_asked_about_when_switching(
        page: SegmentsPage, engine: Engine, qtbot: QtBot,
        monkeypatch: pytest.MonkeyPatch) -> None:
    page.add_condition()
    asked = answer(monkeypatch, UnsavedChangesDialog, Unsaved.CANCEL, Unsaved.DISCARD)
    page.segment_list.setCurrentRow(0)
    # Asked once the list has finished its selection change.
    qtbot.waitUntil(lambda: asked == [("New segment",)], timeout=5_000)
    assert page.current_id is None
    assert len(page.model.root.children) == 1
    assert page.segment_list.currentRow() == -1  # the list shows what is open
    page.segment_list.setCurrentRow(0)
    qtbot.waitUntil(lambda: page.name_edit.text() == "Pune shoppers", timeout=5_000)

    node = page.add_condition()
    page.model.edit_condition(node, "city", "in", ["Mumbai"])  # set: savable
    answer(monkeypatch, UnsavedChangesDialog, Unsaved.SAVE)
    with qtbot.waitSignal(page.segment_stored, timeout=10_000):
        page.new_segment()  # Ctrl+N
    stored = next(s for s in list_segments(engine) if s.name == "Pune shoppers")
    assert len(stored.rule.rules) == 2  # saved before switching
    assert page.current_id is None
    assert page.name_edit.text() == "New segment"
    qtbot.waitUntil(lambda: page.segment_list.currentRow() == -1 and
                    page.segment_list.count() == 1, timeout=10_000)


def test_an_invalid_rule_is_not_saved(page: SegmentsPage, engine: Engine,
                                      qtbot: QtBot) -> None:
    node = page.add_condition()
    page.model.edit_condition(node, "visits", ">", "many")
    with qtbot.assertNotEmitted(page.segment_stored, wait=100):
        page.save()
    assert page.message.text() == "Cannot save: Visits more than many: Enter a whole number, like 3"
    assert [s.name for s in list_segments(engine)] == ["Pune shoppers"]


def test_json_export_then_import_round_trip(page: SegmentsPage, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    page.model.replace_root(tree_from_rule(NESTED))
    target = tmp_path / "rule.json"
    answer(monkeypatch, SaveRuleJsonDialog, target)
    page.export_action.trigger()
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert exported["version"] == 1
    assert parse_rule(exported) == parse_rule(NESTED)

    page.model.load(tree_from_rule({"combinator": "and", "rules": []}))
    answer(monkeypatch, OpenRuleJsonDialog, target)
    page.import_action.trigger()
    assert parse_rule(page.model.to_json()) == parse_rule(NESTED)
    page.undo_action.trigger()  # an import is one undoable step
    assert page.model.root.children == []

    QGuiApplication.clipboard().clear()
    page.undo_action.trigger()
    page.redo_action.trigger()
    page.copy_action.trigger()
    assert parse_rule(json.loads(QGuiApplication.clipboard().text())) == parse_rule(NESTED)


def test_react_querybuilder_json_imports(page: SegmentsPage, tmp_path: Path) -> None:
    # What react-querybuilder writes: ids, valueSource, upper-case combinators.
    path = tmp_path / "rqb.json"
    path.write_text(json.dumps({"id": "root", "combinator": "AND", "rules": [
        {"id": "r1", "field": "city", "operator": "=", "valueSource": "value",
         "value": "Pune"},
        {"id": "g1", "combinator": "or", "not": True, "rules": [
            {"id": "r2", "field": "visits", "operator": "between", "value": ["2", "5"]}]},
    ]}), encoding="utf-8")
    assert page.import_json(path)
    assert page.model.to_json()["rules"][1] == {
        "combinator": "or", "not": True,
        "rules": [{"field": "visits", "operator": "between", "value": ["2", "5"]}]}


def test_a_bad_json_file_is_refused_with_its_problem(page: SegmentsPage,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"combinator": "and", "rules": [
        {"field": "total_spend", "operator": "contains", "value": "x"}]}), encoding="utf-8")
    before = page.model.to_json()
    assert not page.import_json(path)
    assert page.model.to_json() == before
    assert page.message.text() == ("Could not import bad.json: “contains” doesn't apply to "
                                   "total spend; pick another comparison "
                                   "(at rules[0].operator)")


def test_main_window_hosts_the_builder_and_ctrl_n_starts_a_segment(
        app_ctx: AppContext, qtbot: QtBot) -> None:
    window = app_ctx.window
    page = window.segments_page
    assert isinstance(page, SegmentsPage)
    for slot in ("segment_list", "editor_area", "rule_tree", "describe_box", "live_count"):
        assert page.findChild(QWidget, slot) is not None, slot
    assert page.describe_group.title() == "Describe in words"
    assert page.describe_box.isEnabled()  # the AI box (tests/ai covers it)
    window.show_page("customers")
    window.new_segment_action.trigger()
    assert window.current_page == "segments"
    assert page.name_edit.text() == "New segment"
    assert page.current_id is None
    qtbot.waitUntil(lambda: page.live.count is not None, timeout=10_000)
    page.shutdown()


def test_closing_the_window_asks_about_unsaved_changes(
        app_ctx: AppContext, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
        unsaved_questions: list[str]) -> None:
    window = app_ctx.window
    page = window.segments_page
    window.new_segment_action.trigger()
    node = page.add_condition()
    page.model.edit_condition(node, "city", "in", ["Mumbai"])  # set: savable
    answer(monkeypatch, UnsavedChangesDialog, Unsaved.CANCEL)
    window.close()
    assert window.isVisible()  # "cancel" keeps the window and the edits
    assert len(page.model.root.children) == 1
    answer(monkeypatch, UnsavedChangesDialog, Unsaved.SAVE)
    with qtbot.waitSignal(page.segment_stored, timeout=10_000) as saved:
        window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)  # closes once saved
    assert saved.args[0].name == "New segment"
    assert len(saved.args[0].rule.rules) == 1
