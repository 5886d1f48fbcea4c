"""Running the delivery engine to the end without a window (CLI, scripts, tests)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop
from sqlalchemy import Engine

from ...errors import MiniCRMError
from .engine import DEFAULT_WORKERS, RETRY_BASE_SECONDS, DeliveryEngine
from .events import CampaignCounts
from .store import counts


class DeliveryStopped(MiniCRMError):
    """A run stopped on a fault (a database error): the campaign is paused with the reason
    when the database let us record it, and `campaign resume` finishes it later."""


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
    on_waiting: Callable[[str], None] | None = None,
) -> CampaignCounts | None:
    """Send a running campaign until it completes (or is paused/cancelled elsewhere). While
    another live process delivers it, wait (`on_waiting(owner)` is told once per owner) and
    take over if that process's lease expires. Raises DeliveryStopped after a fault."""
    ensure_core_app()
    delivery = DeliveryEngine(
        engine,
        workers=workers,
        ledger_path=ledger_path,
        retry_base_seconds=RETRY_BASE_SECONDS if retry_base_seconds is None else retry_base_seconds,
    )
    loop = QEventLoop()
    ended: list[str] = []
    faults: list[str] = []

    def finished(cid: int, status: str) -> None:
        if cid == campaign_id:
            ended.append(status)
            loop.quit()

    delivery.finished.connect(finished)
    delivery.faulted.connect(lambda cid, reason: faults.append(reason) if cid == campaign_id
                             else None)
    if on_waiting is not None:
        delivery.waiting.connect(lambda cid, owner: on_waiting(owner) if cid == campaign_id
                                 else None)
    try:
        delivery.start(campaign_id)
        loop.exec()  # until `finished`: the run ended, or it could not start
    finally:
        delivery.shutdown()
        delivery.deleteLater()
    if faults:
        status = ended[-1] if ended else ""
        if status == "lost":
            raise DeliveryStopped(f"campaign {campaign_id} stopped here: {faults[-1]}")
        state = "paused" if status == "paused" else "stopped"
        raise DeliveryStopped(f"campaign {campaign_id} {state}: {faults[-1]}. Run `minicrm "
                              f"campaign resume {campaign_id}` when the database is back.")
    return counts(engine, campaign_id)
