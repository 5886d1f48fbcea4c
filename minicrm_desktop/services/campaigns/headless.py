"""Running the delivery engine to the end without a window (CLI, scripts, tests)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop
from sqlalchemy import Engine

from .engine import DEFAULT_WORKERS, RETRY_BASE_SECONDS, DeliveryEngine
from .events import CampaignCounts
from .store import counts


def ensure_core_app() -> QCoreApplication:
    app = QCoreApplication.instance()
    return app if app is not None else QCoreApplication([])


def run_until_settled(
    engine: Engine,
    campaign_id: int,
    *,
    workers: int = DEFAULT_WORKERS,
    ledger_path: Path | None = None,
    retry_base_seconds: float | None = None,
) -> CampaignCounts | None:
    """Send a running campaign until it completes (or is paused/cancelled elsewhere)."""
    ensure_core_app()
    delivery = DeliveryEngine(
        engine,
        workers=workers,
        ledger_path=ledger_path,
        retry_base_seconds=RETRY_BASE_SECONDS if retry_base_seconds is None else retry_base_seconds,
    )
    loop = QEventLoop()
    delivery.finished.connect(lambda cid, _status: loop.quit() if cid == campaign_id else None)
    try:
        delivery.start(campaign_id)
        loop.exec()  # until `finished`: the run ended, or it could not start
    finally:
        delivery.shutdown()
        delivery.deleteLater()
    return counts(engine, campaign_id)
