"""Imports keep the garbage collector off their short-lived rows (services/core/heap.py),
and leave its settings as they found them, even when imports overlap."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine

from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.core import heap
from minicrm_desktop.services.importing import import_customers
from tests.helpers import write_csv


def test_an_import_raises_the_young_threshold_while_it_runs(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = gc.get_threshold()
    seen: list[int] = []
    real = heap.freeze_long_lived

    def counted() -> None:
        seen.append(1)
        real()

    monkeypatch.setattr(heap, "freeze_long_lived", counted)
    thresholds: list[tuple[int, int, int]] = []
    import_customers(sqlite_engine, write_csv(tmp_path / "c.csv", "email\na@x.example\n"),
                     actor=LOCAL_ADMIN,
                     progress=lambda _p: thresholds.append(gc.get_threshold()))
    assert seen == [1]
    assert thresholds
    assert all(t[0] == heap.BULK_YOUNG_THRESHOLD for t in thresholds)
    assert gc.get_threshold() == before


def test_overlapping_jobs_restore_the_threshold_when_the_last_ends() -> None:
    before = gc.get_threshold()
    first_in, second_done = threading.Event(), threading.Event()

    def first() -> None:
        with heap.bulk_allocations():
            first_in.set()
            second_done.wait(10)

    worker = threading.Thread(target=first)
    worker.start()
    assert first_in.wait(10)
    with heap.bulk_allocations():
        assert gc.get_threshold()[0] == heap.BULK_YOUNG_THRESHOLD
    assert gc.get_threshold()[0] == heap.BULK_YOUNG_THRESHOLD  # the first still runs
    second_done.set()
    worker.join(10)
    assert gc.get_threshold() == before
