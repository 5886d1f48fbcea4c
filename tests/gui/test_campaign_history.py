"""The Campaigns page: history paging, live progress, pause/resume/cancel, and the app
resuming interrupted and due campaigns at start."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, func, insert, select, update

from minicrm_desktop.app import AppContext
from minicrm_desktop.models.base import utcnow
from minicrm_desktop.models.campaign import campaigns_table, deliveries_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.launch import create_campaign, launch_campaign
from minicrm_desktop.services.campaigns.vendor import VendorConfig
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.settings import Settings
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.importing import import_customers
from minicrm_desktop.views.campaigns.control import CampaignControl
from minicrm_desktop.views.campaigns.history_model import (
    COLUMNS,
    PAGE_SIZE,
    PROGRESS_COLUMN,
    CampaignHistoryModel,
    ProgressRole,
)
from minicrm_desktop.views.campaigns.page import CampaignsPage
from tests.campaigns.conftest import POPULATION, draft
from tests.gui.conftest import close_app, offline_ai, start_app
from tests.gui.person import DialogLog, answer_dialog
from tests.helpers import write_csv

d = deliveries_table.c


def insert_campaigns(engine: Engine, n: int) -> None:
    now = utcnow()
    rows = [
        {"name": f"Campaign {i:03d}", "channel": "email", "objective": "", "rule_json": "{}",
         "status": "completed", "created_at": now, "vendor_json": "{}", "audience": 10,
         "sent": 8, "failed": 1, "skipped": 1}
        for i in range(n)
    ]
    with engine.begin() as conn:
        conn.execute(insert(campaigns_table), rows)


@pytest.fixture
def population(engine: Engine, tmp_path: Path) -> Engine:
    """200 customers (see tests/campaigns/conftest.py) on SQLite and MariaDB."""
    import_customers(engine, write_csv(tmp_path / "people.csv", POPULATION), actor=LOCAL_ADMIN)
    return engine


@pytest.fixture
def open_page(runner: TaskRunner, bus: EventBus, qtbot: QtBot,
              make_control: Callable[[Engine], CampaignControl]
              ) -> Iterator[Callable[[Engine], CampaignsPage]]:
    pages: list[CampaignsPage] = []

    def make(engine: Engine) -> CampaignsPage:
        page = CampaignsPage(engine, runner, bus, make_control(engine), actor=LOCAL_ADMIN,
                             ai=offline_ai())
        page.resize(1100, 600)
        page.show()
        with qtbot.waitSignal(page.model.loaded, timeout=10_000):
            page.model.refresh()
        pages.append(page)
        return page

    yield make
    for page in pages:
        qtbot.waitUntil(lambda: not page.busy, timeout=10_000)  # noqa: B023
        page.shutdown()
        page.close()
        page.deleteLater()


def test_history_model_pages_newest_first(sqlite_engine: Engine, runner: TaskRunner,
                                          qtbot: QtBot, qtmodeltester: object) -> None:
    insert_campaigns(sqlite_engine, 2 * PAGE_SIZE + 50)
    model = CampaignHistoryModel(sqlite_engine, runner)
    with qtbot.waitSignal(model.loaded, timeout=10_000):
        model.refresh()
    assert model.rowCount() == PAGE_SIZE
    ids = [model.campaign(r).id for r in range(model.rowCount())]  # type: ignore[union-attr]
    assert ids == sorted(ids, reverse=True)
    assert model.canFetchMore()
    for expected in (2 * PAGE_SIZE, 2 * PAGE_SIZE + 50):
        with qtbot.waitSignal(model.loaded, timeout=10_000):
            model.fetchMore()
        assert model.rowCount() == expected
    assert not model.canFetchMore()
    ids = [model.campaign(r).id for r in range(model.rowCount())]  # type: ignore[union-attr]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids)
    assert model.page_fetches == 3
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.index(0, COLUMNS.index("Success")).data() == "88.9%"


def test_scrolling_the_page_loads_the_next_page(sqlite_engine: Engine, qtbot: QtBot,
                                                open_page: Callable[[Engine], CampaignsPage]
                                                ) -> None:
    insert_campaigns(sqlite_engine, PAGE_SIZE + 20)
    page = open_page(sqlite_engine)
    assert page.model.rowCount() == PAGE_SIZE
    page.table.scrollToBottom()
    qtbot.waitUntil(lambda: page.model.rowCount() == PAGE_SIZE + 20, timeout=10_000)


def test_live_progress_arrives_by_signal(population: Engine, bus: EventBus, qtbot: QtBot,
                                         open_page: Callable[[Engine], CampaignsPage]) -> None:
    campaign_id = create_campaign(population, draft(vendor=VendorConfig(seed=3)), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    page = open_page(population)
    assert page.model.index(0, 1).data() == "Running"
    changed: list[int] = []
    page.model.dataChanged.connect(lambda top, _bottom: changed.append(top.row()))
    with qtbot.waitSignal(bus.campaign_finished, timeout=30_000) as finished, \
            qtbot.waitSignal(bus.campaign_progress, timeout=30_000):
        page.control.delivery.start(campaign_id)
    assert finished.args == [campaign_id, "completed"]
    assert changed  # counters were applied in place, before any reload
    qtbot.waitUntil(lambda: page.model.index(0, 1).data() == "Completed", timeout=10_000)
    row = page.model.campaign(0)
    assert row is not None
    assert row.sent + row.failed + row.skipped == 200
    assert page.model.index(0, PROGRESS_COLUMN).data(ProgressRole) == 1.0

    # Its own page opens from the list, and goes back to it.
    page.select_campaign(campaign_id)
    page.open_button.click()
    detail = page.detail
    assert detail is not None
    assert page.stack.currentWidget() is detail
    qtbot.waitUntil(lambda: detail.report is not None and not detail.busy, timeout=10_000)
    assert detail.figure_labels["audience"].text() == "200"
    with qtbot.waitSignal(page.model.loaded, timeout=10_000):
        detail.back_button.click()
    assert page.stack.currentWidget() is page.list_page


def test_pause_resume_and_cancel_from_the_page(population: Engine, bus: EventBus,
                                               qtbot: QtBot,
                                               open_page: Callable[[Engine], CampaignsPage]
                                               ) -> None:
    slow = VendorConfig(success_rate=1.0, latency_ms=20)
    campaign_id = create_campaign(population, draft(vendor=slow), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    page = open_page(population)
    page.select_campaign(campaign_id)
    # Running in the database, not sending here: a pause still goes through the database.
    assert page.pause_button.isEnabled()
    assert page.resume_button.isEnabled()
    assert page.cancel_button.isEnabled()

    with qtbot.waitSignal(bus.campaign_progress, timeout=20_000):
        page.control.delivery.start(campaign_id)
    page.select_campaign(campaign_id)
    qtbot.waitUntil(page.pause_button.isEnabled, timeout=5_000)
    with qtbot.waitSignal(bus.campaign_finished, timeout=20_000) as paused:
        page.pause_button.click()
    assert paused.args == [campaign_id, "paused"]
    qtbot.waitUntil(lambda: page.model.index(0, 1).data() == "Paused", timeout=10_000)
    assert page.resume_button.isEnabled()
    assert not page.pause_button.isEnabled()

    page.resume_button.click()
    qtbot.waitUntil(lambda: page.control.is_running(campaign_id), timeout=10_000)
    qtbot.waitUntil(page.pause_button.isEnabled, timeout=10_000)
    seen = DialogLog()
    answer_dialog(seen, button="Cancel campaign")  # it asks first: confirm
    with qtbot.waitSignal(bus.campaign_finished, timeout=20_000) as cancelled:
        page.cancel_button.click()
    assert seen.seen
    assert "cannot be undone" in seen.seen[0]
    assert cancelled.args == [campaign_id, "cancelled"]
    qtbot.waitUntil(lambda: page.model.index(0, 1).data() == "Cancelled", timeout=10_000)
    assert not (page.pause_button.isEnabled())
    assert not (page.resume_button.isEnabled())
    assert not (page.cancel_button.isEnabled())
    with population.connect() as conn:
        open_rows = conn.execute(select(func.count()).where(
            d.campaign_id == campaign_id, d.status.in_(["queued", "sending"]))).scalar()
    assert open_rows == 0


def test_start_up_finishes_interrupted_and_due_campaigns(seeded_url: str, seeded_engine: Engine,
                                                         settings: Settings,
                                                         qtbot: QtBot) -> None:
    fast = VendorConfig(seed=5)
    crashed = create_campaign(seeded_engine, draft(vendor=fast), actor=LOCAL_ADMIN)
    launch_campaign(seeded_engine, crashed, actor=LOCAL_ADMIN)
    with seeded_engine.begin() as conn:  # a killed process left claims behind
        first = conn.execute(select(d.id).where(d.campaign_id == crashed, d.status == "queued")
                             .order_by(d.id).limit(50)).scalars().all()
        conn.execute(update(deliveries_table).where(d.id.in_(first))
                     .values(status="sending", claim="dead-process"))
    due = create_campaign(seeded_engine, draft(
        name="Due", vendor=fast, scheduled_at=utcnow() - timedelta(minutes=1)), actor=LOCAL_ADMIN)
    later = create_campaign(seeded_engine, draft(
        name="Later", vendor=fast, scheduled_at=utcnow() + timedelta(days=1)), actor=LOCAL_ADMIN)

    ctx = start_app(seeded_url, settings, qtbot)
    finished: list[tuple[int, str]] = []
    ctx.bus.campaign_finished.connect(lambda cid, status: finished.append((cid, status)))
    try:
        qtbot.waitUntil(lambda: len(finished) == 2, timeout=60_000)
        assert sorted(finished) == [(crashed, "completed"), (due, "completed")]
    finally:
        close_app(ctx, qtbot)
    with seeded_engine.connect() as conn:
        statuses = {row.id: row.status for row in conn.execute(
            select(campaigns_table.c.id, campaigns_table.c.status))}
        unfinished = conn.execute(select(func.count()).where(
            d.campaign_id.in_([crashed, due]), d.status.in_(["queued", "sending"]))).scalar()
    assert statuses[later] == "scheduled"
    assert unfinished == 0


def test_the_schedule_check_launches_due_campaigns(sqlite_engine: Engine, tmp_path: Path,
                                                   bus: EventBus, qtbot: QtBot,
                                                   make_control: Callable[[Engine],
                                                                          CampaignControl]
                                                   ) -> None:
    import_customers(sqlite_engine, write_csv(tmp_path / "people.csv", POPULATION),
        actor=LOCAL_ADMIN)
    control = make_control(sqlite_engine)
    due = create_campaign(sqlite_engine, draft(scheduled_at=utcnow() + timedelta(seconds=1)),
        actor=LOCAL_ADMIN)
    control.launch_due()  # not due yet: nothing starts
    qtbot.waitUntil(lambda: control.runner.active_count == 0, timeout=10_000)
    assert not control.is_running(due)
    with sqlite_engine.begin() as conn:  # the clock moves on
        conn.execute(update(campaigns_table).where(campaigns_table.c.id == due)
                     .values(scheduled_at=utcnow() - timedelta(seconds=1)))
    with qtbot.waitSignal(bus.campaign_finished, timeout=30_000) as finished:
        control.timer.timeout.emit()  # what the 30-second timer does
    assert finished.args == [due, "completed"]


def test_the_app_shows_the_campaigns_page(app_ctx: AppContext, qtbot: QtBot) -> None:
    window = app_ctx.window
    window.show_page("campaigns")
    page = window.campaigns_page
    assert isinstance(page, CampaignsPage)
    qtbot.waitUntil(lambda: not page.busy and page.empty.isVisible(), timeout=10_000)
    assert page.model.rowCount() == 0
    assert app_ctx.campaigns.timer.isActive()  # the schedule is checked while the app runs
