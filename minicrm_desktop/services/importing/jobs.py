"""The import as a job for a helper process (`run_in_process`): module-level so a spawned
process can import it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from minicrm_desktop.services.access.actor import Actor
from minicrm_desktop.services.core.tasks import ProgressSink, job_engine

from .customers import import_customers
from .options import STRICT, ImportOptions
from .orders import import_orders


def import_file_job(
    url: str,
    kind: str,
    path: Path,
    mapping: Mapping[str, str],
    actor: Actor,
    *,
    progress: ProgressSink,
    should_cancel: Callable[[], bool],
    options: ImportOptions | None = None,
) -> Any:
    """Import customers or orders from `path` into the database at `url`; `options` (the
    reading the user chose after the format report) default to the strict contract."""
    run = import_orders if kind == "orders" else import_customers
    engine = job_engine(url)
    try:
        return run(
            engine, path, mapping=dict(mapping), progress=progress,
            should_cancel=should_cancel, actor=actor, options=options or STRICT,
        )
    finally:
        engine.dispose()
