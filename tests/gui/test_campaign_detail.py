"""A campaign's page: outcomes over time, per-variant results, the reasons chart, and the
per-recipient log paged, filtered and exported."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCharts import QAbstractBarSeries, QBarCategoryAxis, QStackedBarSeries
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from minicrm_desktop.models.campaign import DeliveryStatus
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.events import CampaignCounts
from minicrm_desktop.services.campaigns.headless import run_until_settled
from minicrm_desktop.services.campaigns.launch import create_campaign, launch_campaign
from minicrm_desktop.services.campaigns.stats import log_page, outcomes_over_time
from minicrm_desktop.services.campaigns.store import counts
from minicrm_desktop.services.campaigns.vendor import VendorConfig
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.importing import import_customers
from minicrm_desktop.views.campaigns import detail as detail_module
from minicrm_desktop.views.campaigns import log_model as campaign_log_model
from minicrm_desktop.views.campaigns.detail import CampaignDetail
from minicrm_desktop.views.common.file_dialogs import SaveCsvDialog
from tests.campaigns.conftest import POPULATION, draft
from tests.gui.conftest import offline_ai
from tests.helpers import write_csv


@pytest.fixture
def sent_campaign(engine: Engine, tmp_path: Path) -> tuple[Engine, int]:
    """A completed campaign to the 200-customer population, on SQLite and MariaDB."""
    import_customers(engine, write_csv(tmp_path / "people.csv", POPULATION), actor=LOCAL_ADMIN)
    campaign_id = create_campaign(engine, draft(vendor=VendorConfig(success_rate=0.8, seed=4)),
        actor=LOCAL_ADMIN)
    launch_campaign(engine, campaign_id, actor=LOCAL_ADMIN)
    run_until_settled(engine, campaign_id, workers=2, ledger_path=tmp_path / "ledger.db",
                      retry_base_seconds=0.001)
    return engine, campaign_id


def test_outcomes_over_time_add_up(sent_campaign: tuple[Engine, int]) -> None:
    engine, campaign_id = sent_campaign
    buckets = outcomes_over_time(engine, campaign_id, buckets=7)
    final = counts(engine, campaign_id)
    assert final is not None
    assert 2 <= len(buckets) <= 7
    width = buckets[0].end - buckets[0].start
    # Whole seconds, starting on the clock: the axis reads as times, never "0.2·2".
    assert width.total_seconds() >= 1
    assert width.microseconds == 0
    assert buckets[0].start.microsecond == 0
    assert sum(b.sent for b in buckets) == final.sent
    assert sum(b.failed for b in buckets) == final.failed
    assert all(a.end == b.start for a, b in zip(buckets, buckets[1:], strict=False))
    assert outcomes_over_time(engine, campaign_id + 1) == []


def test_log_pages_by_keyset(sent_campaign: tuple[Engine, int]) -> None:
    engine, campaign_id = sent_campaign
    first = log_page(engine, campaign_id, limit=120)
    rest = log_page(engine, campaign_id, after_id=first[-1].id, limit=120)
    assert len(first) == 120
    assert len(rest) == 80
    assert len({r.id for r in first + rest}) == 200
    skipped = log_page(engine, campaign_id, status=DeliveryStatus.SKIPPED, limit=500)
    assert skipped
    assert {r.status for r in skipped} == {"skipped"}


@pytest.fixture
def detail(sent_campaign: tuple[Engine, int], runner: TaskRunner, bus: EventBus,
           qtbot: QtBot) -> Iterator[CampaignDetail]:
    engine, _ = sent_campaign
    page = CampaignDetail(engine, runner, bus, ai=offline_ai())
    page.resize(1100, 800)
    page.show()
    yield page
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)
    page.shutdown()
    page.close()
    page.deleteLater()


def test_detail_page_shows_variants_charts_and_the_paged_log(
    sent_campaign: tuple[Engine, int], detail: CampaignDetail, bus: EventBus, qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    engine, campaign_id = sent_campaign
    monkeypatch.setattr(campaign_log_model, "LOG_PAGE_SIZE", 60)
    final = counts(engine, campaign_id)
    assert final is not None
    with qtbot.waitSignals([detail.report_loaded, detail.log_model.loaded], timeout=10_000):
        detail.show_campaign(campaign_id)
    assert detail.header.title.text() == "Spring sale"
    assert detail.figure_labels["sent"].text() == f"{final.sent:,}"
    assert detail.variants.rowCount() == 2
    recipients = [detail.variants.item(r, 2) for r in range(2)]
    assert sum(int(item.text()) for item in recipients if item is not None) == 200

    (timeline,) = detail.timeline_chart.series()
    assert isinstance(timeline, QStackedBarSeries)
    sent_set, failed_set = timeline.barSets()
    assert sum(sent_set.at(i) for i in range(sent_set.count())) == final.sent
    assert sum(failed_set.at(i) for i in range(failed_set.count())) == final.failed
    (reasons,) = detail.reasons_chart.series()
    assert isinstance(reasons, QAbstractBarSeries)
    axis = next(a for a in detail.reasons_chart.axes() if isinstance(a, QBarCategoryAxis))
    assert "unsubscribed" in axis.categories()

    # Progress from the bus makes the page read the database again: the counters a
    # progress event carries never reach the header alone (one snapshot for every figure).
    with qtbot.waitSignal(detail.report_loaded, timeout=10_000):
        bus.campaign_progress.emit(CampaignCounts(campaign_id, "running", 200, 7, 1, 2))
    assert detail.figure_labels["sent"].text() == f"{final.sent:,}"

    # The log arrives a page at a time as the view scrolls.
    assert detail.log_model.rowCount() == 60
    detail.log.scrollToBottom()
    qtbot.waitUntil(lambda: detail.log_model.rowCount() == 120, timeout=10_000)
    while detail.log_model.canFetchMore() or detail.log_model.loading:
        with qtbot.waitSignal(detail.log_model.loaded, timeout=10_000):
            if not detail.log_model.loading:
                detail.log_model.fetchMore()
    assert detail.log_model.rowCount() == 200

    # Filtered by status.
    with qtbot.waitSignal(detail.log_model.loaded, timeout=10_000):
        detail.status_filter.setCurrentText("Skipped")
    assert detail.log_model.rowCount() == final.skipped
    assert {detail.log_model.index(r, 3).data() for r in range(final.skipped)} == {"skipped"}

    # Exported: the filtered log, written by a task.
    target = tmp_path / "skipped.csv"
    monkeypatch.setattr(SaveCsvDialog, "ask", classmethod(lambda cls, *a, **k: target))
    with qtbot.waitSignal(detail.exported, timeout=10_000) as exported:
        detail.export_button.click()
    assert exported.args == [str(target), final.skipped]
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == final.skipped
    assert {row["status"] for row in rows} == {"skipped"}


def test_polls_that_come_by_themselves_wait_in_proportion_to_the_last_one(
    sent_campaign: tuple[Engine, int], detail: CampaignDetail, qtbot: QtBot,
) -> None:
    """A poll reads every outcome of the campaign: the timer and the engine's progress start
    the next one only POLL_PACE times as long after the last as it took (at least POLL_MS
    for progress), so a large campaign's page does not slow the run it watches."""
    _, campaign_id = sent_campaign
    with qtbot.waitSignal(detail.report_loaded, timeout=10_000):
        detail.show_campaign(campaign_id)
    with qtbot.waitSignal(detail.report_loaded, timeout=10_000):
        detail.poll()
    assert detail._poll_took > 0  # measured from the poll's start to its result
    progress = CampaignCounts(campaign_id, "running", 200, 7, 1, 2)
    detail._poll_took = 10.0  # as if reading the campaign took 10 s
    detail._polled_at = time.monotonic() - 29
    detail._tick(0.0)
    detail._progress(progress)
    assert detail._poll is None  # 30 s have not passed since the last one began
    detail._polled_at = time.monotonic() - 31
    with qtbot.waitSignal(detail.report_loaded, timeout=10_000):
        detail._tick(0.0)
    # A small campaign's poll is quick: progress polls again once POLL_MS has passed.
    detail._polled_at = time.monotonic() - detail_module.POLL_MS / 1000 - 0.1
    with qtbot.waitSignal(detail.report_loaded, timeout=10_000):
        detail._progress(progress)
