"""Killing the sender at any moment never sends twice, and a resume finishes the job.

A campaign is sent by a child process (`minicrm campaign resume`), killed with SIGKILL
as soon as the vendor has accepted a randomly chosen number of messages, then resumed —
several times in a row — and finally resumed to the end. Afterwards every recipient has
exactly one final status and the vendor's ledger holds at most one message per recipient.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from minicrm_desktop.models.campaign import deliveries_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.launch import create_campaign, launch_campaign
from minicrm_desktop.services.campaigns.vendor import VendorConfig
from tests.campaigns.conftest import draft
from tests.campaigns.invariants import assert_campaign_consistent
from tests.campaigns.processes import SHORT_LEASE

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll a condition of another process (no signal can cross the process boundary)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def ledger_count(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0])
    except sqlite3.OperationalError:  # the table is being created
        return 0


def sent_or_exited(ledger: Path, target: int, child: subprocess.Popen[bytes]) -> Callable[[], bool]:
    return lambda: ledger_count(ledger) >= target or child.poll() is not None


def in_flight(engine: Engine, campaign_id: int) -> int:
    d = deliveries_table.c
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(d.campaign_id == campaign_id, d.status == "sending")
            ).scalar_one()
        )


# `minicrm` as the local admin: a MariaDB database would otherwise need a sign-in, and
# this test is about crashes, not roles (tests/access covers those).
CLI_AS_LOCAL_ADMIN = (
    "import sys; from minicrm_desktop.cli.main import main; "
    "from minicrm_desktop.services.access.actor import LOCAL_ADMIN; "
    "sys.exit(main(sys.argv[1:], actor=LOCAL_ADMIN))"
)


def resume(db_url: str, campaign_id: int, ledger: Path) -> subprocess.Popen[bytes]:
    # A short lease: each resume after a kill takes over within seconds.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **SHORT_LEASE}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            CLI_AS_LOCAL_ADMIN,
            "--db",
            db_url,
            "campaign",
            "resume",
            str(campaign_id),
            "--ledger",
            str(ledger),
            "--workers",
            "4",
            "--retry-seconds",
            "0.001",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def launched(engine: Engine, latency_ms: float = 4) -> int:
    slow = VendorConfig(success_rate=0.9, latency_ms=latency_ms, seed=5)
    campaign_id = create_campaign(engine, draft(vendor=slow), actor=LOCAL_ADMIN)
    launch_campaign(engine, campaign_id, actor=LOCAL_ADMIN)
    return campaign_id


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_at_random_points_then_resumed(
    population: Engine, db_url: str, ledger_path: Path, seed: int
) -> None:
    campaign_id = launched(population)
    rng = random.Random(seed)
    interrupted_mid_chunk = 0
    for _ in range(3):
        before = ledger_count(ledger_path)
        target = before + rng.randint(1, 40)
        child = resume(db_url, campaign_id, ledger_path)
        wait_for(sent_or_exited(ledger_path, target, child), 60, "the child to send")
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        interrupted_mid_chunk += in_flight(population, campaign_id) > 0
    # The kills really landed while messages were claimed but their outcome unrecorded.
    assert interrupted_mid_chunk >= 1
    final = resume(db_url, campaign_id, ledger_path)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err.decode()
    assert b'"status": "completed"' in out
    statuses = assert_campaign_consistent(population, campaign_id, ledger_path)
    assert statuses["sent"] + statuses["failed"] == 180


def test_two_processes_resuming_at_once_send_once(
    population: Engine, db_url: str, ledger_path: Path
) -> None:
    campaign_id = launched(population, latency_ms=2)
    # First leave claimed-but-unrecorded messages behind, as a crash does.
    child = resume(db_url, campaign_id, ledger_path)
    wait_for(sent_or_exited(ledger_path, 30, child), 60, "the child to send")
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    first, second = (resume(db_url, campaign_id, ledger_path) for _ in range(2))
    for proc in (first, second):
        _out, err = proc.communicate(timeout=120)
        # One may start only after the other finished everything: then it has nothing left.
        assert proc.returncode == 0 or b"is completed: nothing to resume" in err, err.decode()
    assert 0 in (first.returncode, second.returncode)
    statuses = assert_campaign_consistent(population, campaign_id, ledger_path)
    assert statuses["sent"] + statuses["failed"] == 180
