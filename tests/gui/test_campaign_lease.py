"""The window and another installation: a campaign being delivered by another process is
shown as such, with its progress read from the database, and pausing it here stops it there.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, update

from minicrm_desktop.models.campaign import campaigns_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.launch import create_campaign, launch_campaign
from minicrm_desktop.services.campaigns.vendor import VendorConfig
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.importing import import_customers
from minicrm_desktop.views.campaigns.control import CampaignControl
from minicrm_desktop.views.campaigns.page import CampaignsPage
from tests.campaigns.conftest import POPULATION, draft
from tests.campaigns.processes import Cli, ledger_keys, resume, wait_for
from tests.gui.conftest import offline_ai
from tests.helpers import write_csv

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a CLI child process")


@pytest.fixture
def page(engine: Engine, tmp_path: Path, runner: TaskRunner, bus: EventBus, qtbot: QtBot,
         make_control: Callable[[Engine], CampaignControl]) -> Iterator[CampaignsPage]:
    import_customers(engine, write_csv(tmp_path / "people.csv", POPULATION), actor=LOCAL_ADMIN)
    page = CampaignsPage(engine, runner, bus, make_control(engine), actor=LOCAL_ADMIN,
                         ai=offline_ai())
    page.resize(1100, 700)
    yield page
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)
    page.shutdown()
    page.close()
    page.deleteLater()


def open_by_double_click(page: CampaignsPage, qtbot: QtBot, campaign_id: int) -> None:
    row = page.model.row_of(campaign_id)
    assert row is not None
    rect = page.table.visualRect(page.model.index(row, 0))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: page.detail is not None and page.detail.report is not None,
                    timeout=10_000)


def test_a_campaign_another_installation_sends_shows_who_and_its_progress(
    page: CampaignsPage, engine: Engine, db_url: str, tmp_path: Path, qtbot: QtBot
) -> None:
    slow = VendorConfig(success_rate=1.0, latency_ms=80, seed=2)
    campaign_id = create_campaign(engine, draft(vendor=slow), actor=LOCAL_ADMIN)
    launch_campaign(engine, campaign_id, actor=LOCAL_ADMIN)
    ledger = tmp_path / "other-installation.db"
    other: Cli = resume(db_url, campaign_id, ledger, workers=1)
    try:
        wait_for(lambda: len(ledger_keys(ledger)) >= 5 or other.proc.poll() is not None,
                 60, "the other installation to send")
        assert other.proc.poll() is None, other.stderr
        page.show()
        with qtbot.waitSignal(page.model.loaded, timeout=10_000):
            page.model.refresh()
        open_by_double_click(page, qtbot, campaign_id)
        detail = page.detail
        assert detail is not None
        state = detail.delivery_state
        qtbot.waitUntil(lambda: "Being delivered by" in state.text(), timeout=10_000)
        assert state.isVisible()
        assert f"pid {other.pid} since" in state.text()
        # Its progress arrives by reading the database: the sent figure keeps rising.
        first = int(detail.figure_labels["sent"].text().replace(",", ""))
        qtbot.waitUntil(
            lambda: int(detail.figure_labels["sent"].text().replace(",", "")) > first + 5,
            timeout=20_000)

        # Paused from this window: the other installation stops within its heartbeat.
        qtbot.mouseClick(detail.back_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.stack.currentWidget() is page.list_page, timeout=5_000)
        page.select_campaign(campaign_id)
        qtbot.waitUntil(page.pause_button.isEnabled, timeout=10_000)
        qtbot.mouseClick(page.pause_button, Qt.MouseButton.LeftButton)
        assert other.wait(60) == 0, other.stderr
        assert json.loads(other.stdout)["status"] == "paused"
        qtbot.waitUntil(lambda: page.model.index(page.model.row_of(campaign_id) or 0, 1).data()
                        == "Paused", timeout=10_000)
    finally:
        if other.proc.poll() is None:
            other.kill()


def test_a_campaign_paused_by_a_fault_shows_the_reason(
    page: CampaignsPage, engine: Engine, qtbot: QtBot
) -> None:
    campaign_id = create_campaign(engine, draft(), actor=LOCAL_ADMIN)
    launch_campaign(engine, campaign_id, actor=LOCAL_ADMIN)
    with engine.begin() as conn:  # what a sender that met a full disk leaves behind
        conn.execute(update(campaigns_table).where(campaigns_table.c.id == campaign_id).values(
            status="paused", status_reason="database error: database or disk is full"))
    page.show()
    with qtbot.waitSignal(page.model.loaded, timeout=10_000):
        page.model.refresh()
    open_by_double_click(page, qtbot, campaign_id)
    assert page.detail is not None
    state = page.detail.delivery_state
    assert state.isVisible()
    assert state.text() == "Paused: database error: database or disk is full"
