"""Launch, delivery, retries, pause/resume/cancel — on SQLite and MariaDB."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select

from minicrm_desktop.models.campaign import Channel, deliveries_table
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns import history
from minicrm_desktop.services.campaigns.engine import DeliveryEngine
from minicrm_desktop.services.campaigns.events import CampaignCounts, DeliveryEvent
from minicrm_desktop.services.campaigns.headless import run_until_settled
from minicrm_desktop.services.campaigns.launch import (
    CampaignError,
    create_campaign,
    launch_campaign,
)
from minicrm_desktop.services.campaigns.vendor import VendorConfig
from tests.campaigns.conftest import draft
from tests.campaigns.invariants import assert_campaign_consistent

d = deliveries_table.c


def reasons(engine: Engine, campaign_id: int, status: str = "skipped") -> dict[int, str | None]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                select(d.customer_id, d.reason).where(
                    d.campaign_id == campaign_id, d.status == status
                )
            ).all()
        )


def test_launch_freezes_audience_with_suppression(population: Engine) -> None:
    campaign_id = create_campaign(population, draft(channel=Channel.SMS), actor=LOCAL_ADMIN)
    summary = launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    assert summary.audience == 200
    # i % 10 == 9 unsubscribed (20), i % 10 == 3 has no phone (20).
    assert summary.skipped_reasons == {"unsubscribed": 20, "no phone number": 20}
    assert summary.queued == 160
    with pytest.raises(CampaignError, match="is running, not ready to launch"):
        launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)


def test_campaign_keeps_its_own_rule(population: Engine) -> None:
    rule = parse_rule(
        {"combinator": "and", "rules": [{"field": "city", "operator": "=", "value": "pune"}]}
    )
    campaign_id = create_campaign(population, draft(rule=rule), actor=LOCAL_ADMIN)
    assert launch_campaign(population, campaign_id,
        actor=LOCAL_ADMIN).audience == 200 - 29  # i % 7 == 0: no city


def test_send_to_the_end(population: Engine, ledger_path: Path, qapp) -> None:
    campaign_id = create_campaign(population, draft(), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    result = run_until_settled(
        population, campaign_id, workers=4, ledger_path=ledger_path, retry_base_seconds=0.001
    )
    assert result is not None
    assert result.status == "completed"
    statuses = assert_campaign_consistent(population, campaign_id, ledger_path)
    assert statuses["skipped"] == 20
    # About 90% of attempted messages get through.
    assert 0.8 < statuses["sent"] / (statuses["sent"] + statuses["failed"]) < 1.0
    details = history.campaign_details(population, campaign_id)
    assert [v["label"] for v in details["variants"]] == ["A", "B"]
    assert sum(v["sent"] for v in details["variants"]) == statuses["sent"]
    assert details["reasons"]["unsubscribed"] == 20


def test_recently_messaged_customers_are_skipped(
    population: Engine, ledger_path: Path, qapp
) -> None:
    first = create_campaign(population, draft(vendor=VendorConfig(success_rate=1.0)),
        actor=LOCAL_ADMIN)
    launch_campaign(population, first, actor=LOCAL_ADMIN)
    run_until_settled(population, first, workers=2, ledger_path=ledger_path)
    second = create_campaign(population, draft(recent_hours=24), actor=LOCAL_ADMIN)
    summary = launch_campaign(population, second, actor=LOCAL_ADMIN)
    assert summary.skipped_reasons == {"unsubscribed": 20, "messaged in the last 24 hours": 180}


def test_transient_failures_are_retried_up_to_the_limit(
    population: Engine, ledger_path: Path, qapp
) -> None:
    campaign_id = create_campaign(
        population, draft(vendor=VendorConfig(success_rate=0.0, seed=1), max_attempts=3),
            actor=LOCAL_ADMIN
    )
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    run_until_settled(
        population, campaign_id, workers=3, ledger_path=ledger_path, retry_base_seconds=0.001
    )
    assert_campaign_consistent(population, campaign_id, ledger_path)
    with population.connect() as conn:
        rows = conn.execute(
            select(d.reason, d.attempts).where(d.campaign_id == campaign_id, d.status == "failed")
        ).all()
    transient = {"mailbox full", "timeout"}
    assert rows
    for reason, attempts in rows:
        # Permanent failures stop at once; transient ones only after the last attempt.
        assert attempts == (3 if reason in transient else 1) or (
            reason not in transient and attempts <= 3
        )
    assert any(attempts == 3 for _, attempts in rows)
    assert any(attempts == 1 for _, attempts in rows)


def test_events_and_progress_are_published(
    population: Engine, ledger_path: Path, qtbot: QtBot
) -> None:
    campaign_id = create_campaign(population, draft(), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    delivery = DeliveryEngine(
        population, workers=2, ledger_path=ledger_path, retry_base_seconds=0.001
    )
    seen: list[DeliveryEvent] = []
    progress: list[CampaignCounts] = []
    delivery.events.connect(seen.extend)
    delivery.progress.connect(progress.append)
    try:
        with qtbot.waitSignal(delivery.finished, timeout=30_000) as blocker:
            delivery.start(campaign_id)
        assert blocker.args == [campaign_id, "completed"]
    finally:
        delivery.shutdown()
    final = [e for e in seen if e.status in ("sent", "failed")]
    assert len({e.delivery_id for e in final}) == 180
    assert progress[-1].done == 200
    assert progress[-1].status == "completed"


def test_pause_resume_and_cancel(population: Engine, ledger_path: Path, qtbot: QtBot) -> None:
    slow = VendorConfig(success_rate=1.0, latency_ms=20)
    campaign_id = create_campaign(population, draft(vendor=slow), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    delivery = DeliveryEngine(population, workers=2, ledger_path=ledger_path)
    progress: list[CampaignCounts] = []
    delivery.progress.connect(progress.append)
    try:
        with qtbot.waitSignal(delivery.finished, timeout=30_000) as paused:
            delivery.start(campaign_id)
            qtbot.waitUntil(lambda: bool(progress) and progress[-1].sent > 0, timeout=20_000)
            delivery.pause(campaign_id, actor=LOCAL_ADMIN)
        assert paused.args == [campaign_id, "paused"]
        assert_campaign_consistent(population, campaign_id, ledger_path, finished=False)
        sent_at_pause = progress[-1].sent
        assert 0 < sent_at_pause < 180

        with qtbot.waitSignal(delivery.finished, timeout=30_000) as cancelled:
            delivery.resume(campaign_id, actor=LOCAL_ADMIN)
            qtbot.waitUntil(lambda: progress[-1].sent > sent_at_pause, timeout=20_000)
            delivery.cancel(campaign_id, actor=LOCAL_ADMIN)
        assert cancelled.args == [campaign_id, "cancelled"]
    finally:
        delivery.shutdown()
    statuses = assert_campaign_consistent(population, campaign_id, ledger_path)
    assert statuses["sent"] > sent_at_pause
    # The never-sent rest is "cancelled", not skipped like a suppression.
    assert set(reasons(population, campaign_id, "cancelled").values()) == {"campaign cancelled"}
    assert "campaign cancelled" not in reasons(population, campaign_id).values()


def test_control_calls_leave_the_database_to_the_writer_thread(
    population: Engine, ledger_path: Path, qtbot: QtBot
) -> None:
    """start/pause/resume/cancel return at once; their SQL runs on the writer's thread,
    never on the caller's (the GUI thread in the app)."""
    import threading

    from sqlalchemy import event

    caller = threading.current_thread()
    on_caller: list[str] = []

    def spy(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if threading.current_thread() is caller:
            on_caller.append(statement)

    slow = VendorConfig(success_rate=1.0, latency_ms=20)
    campaign_id = create_campaign(population, draft(vendor=slow), actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    delivery = DeliveryEngine(population, workers=2, ledger_path=ledger_path)
    event.listen(population, "before_cursor_execute", spy)
    try:
        with qtbot.waitSignal(delivery.finished, timeout=30_000) as paused:
            delivery.start(campaign_id)
            qtbot.waitUntil(lambda: delivery.is_running(campaign_id), timeout=10_000)
            delivery.pause(campaign_id, actor=LOCAL_ADMIN)
        assert paused.args == [campaign_id, "paused"]
        with qtbot.waitSignal(delivery.finished, timeout=30_000) as cancelled:
            delivery.resume(campaign_id, actor=LOCAL_ADMIN)
            delivery.cancel(campaign_id, actor=LOCAL_ADMIN)
        assert cancelled.args == [campaign_id, "cancelled"]
        assert on_caller == []
    finally:
        event.remove(population, "before_cursor_execute", spy)
        delivery.shutdown()
    assert_campaign_consistent(population, campaign_id, ledger_path)


def test_a_campaign_that_cannot_start_says_why(
    population: Engine, ledger_path: Path, qtbot: QtBot
) -> None:
    campaign_id = create_campaign(population, draft(), actor=LOCAL_ADMIN)  # a draft: never launched
    delivery = DeliveryEngine(population, workers=2, ledger_path=ledger_path)
    try:
        with qtbot.waitSignal(delivery.finished, timeout=10_000) as refused:
            delivery.start(campaign_id)
        assert refused.args == [campaign_id, "draft"]
        assert not delivery.is_running(campaign_id)
    finally:
        delivery.shutdown()


def test_workers_sending_at_once_follow_the_vendors_speed(
    population: Engine, ledger_path: Path, qapp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A vendor answering at once is CPU work under the GIL: only FEW_WORKERS send; one that
    takes its time (network latency) gets every worker, to keep messages in flight."""
    import threading

    from minicrm_desktop.services.campaigns import worker
    from minicrm_desktop.services.campaigns.vendor import Vendor

    senders: dict[str, set[int]] = {}
    answer = Vendor.answer

    def counted(self: Vendor, message: object) -> object:
        key = "slow" if self.config.latency_ms else "fast"
        senders.setdefault(key, set()).add(threading.get_ident())
        return answer(self, message)  # type: ignore[arg-type]

    monkeypatch.setattr(Vendor, "answer", counted)
    for latency in (0.0, 5.0):
        campaign_id = create_campaign(
            population, draft(name=f"latency {latency}",
                              vendor=VendorConfig(success_rate=1.0, seed=3, latency_ms=latency)),
            actor=LOCAL_ADMIN)
        launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
        result = run_until_settled(population, campaign_id, workers=6, ledger_path=ledger_path)
        assert result is not None
        assert result.status == "completed"
    assert len(senders["fast"]) <= worker.FEW_WORKERS
    assert len(senders["slow"]) > worker.FEW_WORKERS
