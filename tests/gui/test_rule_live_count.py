"""The live audience count: off the GUI thread, debounced, stale results dropped, a sample."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from minicrm_desktop.models.rule_tree import ConditionNode, tree_from_rule
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services import segments as segment_engine
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.customers.seed import seed_demo_data
from minicrm_desktop.services.segments import audience_sample, count_audience
from minicrm_desktop.views.segments import live_count as live_count_module
from minicrm_desktop.views.segments.live_count import LiveCount
from minicrm_desktop.views.segments.page import SegmentsPage

from .conftest import SEED_ANCHOR, close_segments_page, open_segments_page

SPENDERS: dict[str, Any] = {"combinator": "and", "rules": [
    {"field": "total_spend", "operator": ">", "value": 2000},
    {"combinator": "or", "not": True, "rules": [
        {"field": "last_order_date", "operator": "withinLast",
         "value": {"amount": 6, "unit": "months"}},
    ]},
]}
CITY_RULE: dict[str, Any] = {"combinator": "and", "rules": [
    {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]}]}


@pytest.fixture
def page(engine: Engine, runner: TaskRunner, bus: EventBus,
         qtbot: QtBot) -> Iterator[SegmentsPage]:
    seed_demo_data(engine, 400, seed=5, anchor=SEED_ANCHOR, actor=LOCAL_ADMIN)
    page = open_segments_page(engine, runner, bus, qtbot)
    yield page
    close_segments_page(page, qtbot)


def test_the_count_arrives_by_signal_and_matches_the_engine(page: SegmentsPage,
                                                            engine: Engine,
                                                            qtbot: QtBot) -> None:
    with qtbot.waitSignal(page.live.count_ready, timeout=10_000) as first:
        pass  # the empty rule after start: everyone
    assert first.args == [400]
    calls: list[str] = []
    real = live_count_module.count_audience

    def spy(*args: Any, **kwargs: Any) -> int:
        calls.append(threading.current_thread().name)
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(live_count_module, "count_audience", spy)
        with qtbot.waitSignal(page.live.counting, timeout=5_000):
            page.model.replace_root(tree_from_rule(SPENDERS))
        assert page.live.label.text() == "Counting…"
        with qtbot.waitSignal(page.live.count_ready, timeout=10_000) as blocker:
            pass
    expected = count_audience(engine, parse_rule(SPENDERS), as_of=SEED_ANCHOR)
    assert 0 < expected < 400
    assert blocker.args == [expected]
    assert page.live.label.text() == f"{expected:,} customers"
    assert calls
    assert threading.main_thread().name not in calls


def test_edits_in_quick_succession_count_once(page: SegmentsPage, qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: not page.live.pending, timeout=10_000)
    started: list[int] = []
    page.live.counting.connect(started.append)
    node = page.add_condition()
    for value in (1000, 2000, 3000):
        page.model.edit_condition(node, "total_spend", ">", value, merge=True)
    with qtbot.waitSignal(page.live.count_ready, timeout=10_000):
        pass
    assert len(started) == 1


def test_a_stale_count_is_discarded(engine: Engine, runner: TaskRunner, qtbot: QtBot,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    seed_demo_data(engine, 300, seed=9, anchor=SEED_ANCHOR, actor=LOCAL_ADMIN)
    old, new = parse_rule(SPENDERS), parse_rule(CITY_RULE)
    old_running, release_old = threading.Event(), threading.Event()
    real = live_count_module.count_audience

    def slow_for_old(eng: Engine, tree: Any, **kwargs: Any) -> int:
        if tree == old:  # hold the first count until the rule has changed
            old_running.set()
            release_old.wait(10)
        return real(eng, tree, **kwargs)

    monkeypatch.setattr(live_count_module, "count_audience", slow_for_old)
    live = LiveCount(engine, runner)
    qtbot.addWidget(live)
    live.as_of = SEED_ANCHOR
    shown: list[int] = []
    live.count_ready.connect(shown.append)
    live.set_rule(old)
    live.count_now()
    assert old_running.wait(10)  # the first count is running on a worker
    live.set_rule(new)
    live.count_now()
    release_old.set()
    qtbot.waitUntil(lambda: runner.active_count == 0, timeout=10_000)
    assert shown == [real(engine, new, as_of=SEED_ANCHOR)]
    assert real(engine, old, as_of=SEED_ANCHOR) != shown[0]
    assert live.label.text() == f"{shown[0]:,} customers"


def test_an_invalid_rule_shows_the_problem_instead_of_a_count(page: SegmentsPage,
                                                              qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: not page.live.pending, timeout=10_000)
    node = page.add_condition()  # inactive (no city yet): counted without it
    qtbot.waitUntil(lambda: not page.live.pending, timeout=10_000)
    with qtbot.assertNotEmitted(page.live.counting, wait=0):
        page.model.edit_condition(node, "city", "in", ["Pune", " "])
        assert not page.live.pending
    assert page.live.label.text() == "City is one of Pune,  : Remove the empty city from the list"
    assert page.live.label.text() == page.message.text()
    assert not page.live.sample_button.isEnabled()
    page.model.undo_stack.undo()
    assert page.live.pending  # valid again: counting resumes
    assert isinstance(node, ConditionNode)


def test_show_sample_lists_matching_customers(page: SegmentsPage, engine: Engine,
                                              qtbot: QtBot) -> None:
    page.model.replace_root(tree_from_rule(CITY_RULE))
    with qtbot.waitSignal(page.live.count_ready, timeout=10_000):
        pass
    assert page.live.sample_button.isEnabled()
    with qtbot.waitSignal(page.live.sample_ready, timeout=10_000) as blocker:
        page.live.sample_button.click()
    expected = audience_sample(engine, parse_rule(CITY_RULE), as_of=SEED_ANCHOR, size=10)
    assert blocker.args[0] == expected
    dialog = page.live.sample_dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.emails() == [m.email for m in expected]
    dialog.close()


def test_the_engine_count_is_what_the_page_uses() -> None:
    # The widget must count with the segment engine itself, not a copy of it.
    assert live_count_module.count_audience is segment_engine.count_audience


def test_gui_thread_keeps_ticking_while_live_counts_run(large_engine: Engine,
                                                        runner: TaskRunner,
                                                        qtbot: QtBot) -> None:
    import time

    from .test_responsiveness import (
        MIN_JOB_SECONDS,
        Heartbeat,
        idle_stall_ms,
        sql_threads,
        stall_limit_ms,
    )

    live = LiveCount(large_engine, runner)
    qtbot.addWidget(live)
    live.as_of = SEED_ANCHOR
    idle_before = idle_stall_ms(qtbot)
    heartbeat = Heartbeat()
    counts: list[int] = []
    with sql_threads(large_engine) as sql:
        heartbeat.start()
        sql.recording = True
        start = time.perf_counter()
        try:
            # A user dragging a value along, for long enough to mean something.
            while time.perf_counter() - start < MIN_JOB_SECONDS:
                threshold = 1_000 * (len(counts) % 20)
                rule = parse_rule({**SPENDERS, "rules": [
                    {"field": "total_spend", "operator": ">", "value": threshold},
                    *SPENDERS["rules"][1:]]})
                live.set_rule(rule)
                with qtbot.waitSignal(live.count_ready, timeout=20_000) as blocker:
                    live.count_now()
                counts.append(blocker.args[0])
        finally:
            sql.recording = False
            heartbeat.stop()
    idle_after = idle_stall_ms(qtbot)
    first_pass = counts[:20]
    assert first_pass == sorted(first_pass, reverse=True)  # higher threshold, fewer found
    assert first_pass[0] > first_pass[-1] > 0
    # The counts ran off the GUI thread (exact), and the GUI thread did not stall more
    # than the machine itself does (see test_responsiveness.py).
    assert sql.elsewhere >= len(counts)
    assert sql.on_gui_thread == 0
    assert heartbeat.ticks > 5
    assert heartbeat.worst_gap_ms < stall_limit_ms(max(idle_before, idle_after)), (
        heartbeat.worst_gap_ms, idle_before, idle_after)
