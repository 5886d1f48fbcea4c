"""Demo data as a job for a helper process (`run_in_process`): module-level so a spawned
process can import it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minicrm_desktop.services.access.actor import Actor
from minicrm_desktop.services.core.tasks import ProgressSink, job_engine

from .seed import seed_demo_data


def seed_demo_job(
    url: str,
    customers: int,
    seed: int,
    actor: Actor,
    *,
    progress: ProgressSink,
    should_cancel: Callable[[], bool],
) -> Any:
    """Add demo customers to the database at `url`."""
    engine = job_engine(url)
    try:
        return seed_demo_data(
            engine, customers, seed=seed, progress=progress, should_cancel=should_cancel,
            actor=actor,
        )
    finally:
        engine.dispose()
