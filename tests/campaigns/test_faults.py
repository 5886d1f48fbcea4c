"""A database that fails during a send stops it cleanly: the campaign is paused with the
reason, the CLI says so once and exits 1, nothing is lost, and a resume finishes it."""

from __future__ import annotations

import errno
import json
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.launch import create_campaign, launch_campaign
from minicrm_desktop.services.campaigns.vendor import VendorConfig
from minicrm_desktop.services.core.database import create_db_engine
from minicrm_desktop.services.importing import import_customers
from tests.campaigns.conftest import POPULATION, draft
from tests.campaigns.invariants import assert_campaign_consistent
from tests.campaigns.processes import campaign_row, count_in, ledger_keys, resume, wait_for
from tests.conftest import IN_CI
from tests.helpers import write_csv

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="tmpfs and SIGKILL: Linux")

# Give up recording the pause soon if the database stays unreachable (the default is 60 s).
FAULT_ENV = {"MINICRM_FAULT_GRACE": "20"}


def launched(engine: Engine, tmp_path: Path, latency_ms: float) -> int:
    import_customers(engine, write_csv(tmp_path / "people.csv", POPULATION), actor=LOCAL_ADMIN)
    slow = VendorConfig(success_rate=0.9, latency_ms=latency_ms, seed=5)
    campaign_id = create_campaign(engine, draft(vendor=slow), actor=LOCAL_ADMIN)
    launch_campaign(engine, campaign_id, actor=LOCAL_ADMIN)
    return campaign_id


def assert_one_clear_error(stderr: str, campaign_id: int, *causes: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"minicrm: error: campaign {campaign_id} paused: database error:")
    assert any(cause in lines[0] for cause in causes), lines[0]
    assert "Traceback" not in stderr


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MiB tmpfs: room for the database, and soon full."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = f"cannot mount a tmpfs (needs root): {done.stderr.strip()}"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system holding `folder` to the last byte."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (1 << 20, 4096, 1):
            block = b"\0" * size
            try:
                while True:
                    out.write(block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    return filler


def test_disk_full_during_a_send_pauses_and_a_resume_finishes(
    small_disk: Path, sqlite_template: Path, tmp_path: Path
) -> None:
    database = small_disk / "crm.db"
    shutil.copyfile(sqlite_template, database)
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    ledger = tmp_path / "ledger.db"  # the vendor's record is elsewhere
    try:
        campaign_id = launched(engine, tmp_path, latency_ms=60)
        sender = resume(url, campaign_id, ledger, env=FAULT_ENV, workers=2)
        wait_for(lambda: len(ledger_keys(ledger)) >= 20 or sender.proc.poll() is not None,
                 60, "the sender to send")
        assert sender.proc.poll() is None, sender.stderr
        filler = fill(small_disk)
        assert sender.wait(120) == 1, sender.stdout + sender.stderr
        assert_one_clear_error(sender.stderr, campaign_id, "disk is full")
        row = campaign_row(engine, campaign_id)
        assert row.status == "paused"  # type: ignore[attr-defined]
        assert "disk is full" in row.status_reason  # type: ignore[attr-defined]
        assert row.lease_owner is None  # type: ignore[attr-defined]
        assert count_in(engine, campaign_id, "queued") > 0  # stopped mid-way

        filler.unlink()
        final = resume(url, campaign_id, ledger, workers=2)
        assert final.wait(120) == 0, final.stderr
        assert json.loads(final.stdout)["status"] == "completed"
        assert campaign_row(engine, campaign_id).status_reason is None  # type: ignore[attr-defined]
        statuses = assert_campaign_consistent(engine, campaign_id, ledger)
        assert statuses["sent"] + statuses["failed"] == 180
    finally:
        engine.dispose()


@pytest.fixture
def sender_account(mysql_engine: Engine) -> Iterator[tuple[str, str]]:
    """A MariaDB account of the sender's own, so the test can cut just its connections:
    (its URL, its name)."""
    name, password = f"sender_{secrets.token_hex(4)}", secrets.token_hex(12)
    url = mysql_engine.url
    with mysql_engine.begin() as conn:
        conn.execute(text(f"CREATE USER '{name}'@'127.0.0.1' IDENTIFIED BY '{password}'"))
        conn.execute(text(f"GRANT ALL PRIVILEGES ON `{url.database}`.* TO "
                          f"'{name}'@'127.0.0.1'"))
    sender_url = make_url(url).set(username=name, password=password)
    try:
        yield sender_url.render_as_string(hide_password=False), name
    finally:
        with mysql_engine.begin() as conn:
            conn.execute(text(f"DROP USER IF EXISTS '{name}'@'127.0.0.1'"))


@pytest.mark.mysql
def test_lost_database_connection_pauses_and_a_resume_finishes(
    mysql_engine: Engine, sender_account: tuple[str, str], tmp_path: Path
) -> None:
    sender_url, account = sender_account
    ledger = tmp_path / "ledger.db"
    campaign_id = launched(mysql_engine, tmp_path, latency_ms=60)
    sender = resume(sender_url, campaign_id, ledger, env=FAULT_ENV, workers=2)
    wait_for(lambda: len(ledger_keys(ledger)) >= 20 or sender.proc.poll() is not None,
             60, "the sender to send")
    assert sender.proc.poll() is None, sender.stderr
    with mysql_engine.begin() as conn:
        # Locked first, so no reconnection (nor any retry) gets through.
        conn.execute(text(f"ALTER USER '{account}'@'127.0.0.1' ACCOUNT LOCK"))
        ids = conn.execute(text("SELECT ID FROM information_schema.PROCESSLIST "
                                "WHERE USER = :u"), {"u": account}).scalars().all()
        for connection_id in ids:
            conn.execute(text(f"KILL CONNECTION {int(connection_id)}"))
    assert ids, "the sender had connections to cut"

    def lease_expired() -> bool:
        # The sender cannot renew its lease: once it expired, the sender has met the
        # error (its heartbeat runs every second) and waits to record the pause.
        with mysql_engine.connect() as conn:
            return bool(conn.execute(text(
                "SELECT lease_expires_at < UTC_TIMESTAMP(6) FROM campaigns WHERE id = :id"),
                {"id": campaign_id}).scalar())

    wait_for(lambda: lease_expired() or sender.proc.poll() is not None, 60,
             "the sender's lease to expire")
    with mysql_engine.begin() as conn:
        conn.execute(text(f"ALTER USER '{account}'@'127.0.0.1' ACCOUNT UNLOCK"))
    assert sender.wait(120) == 1, sender.stdout + sender.stderr
    assert_one_clear_error(sender.stderr, campaign_id, "Lost connection", "gone away",
                           "locked", "Access denied")
    row = campaign_row(mysql_engine, campaign_id)
    assert row.status == "paused"  # type: ignore[attr-defined]
    assert row.status_reason.startswith("database error:")  # type: ignore[attr-defined]
    assert count_in(mysql_engine, campaign_id, "queued") > 0

    final = resume(sender_url, campaign_id, ledger, workers=2)
    assert final.wait(120) == 0, final.stderr
    assert json.loads(final.stdout)["status"] == "completed"
    statuses = assert_campaign_consistent(mysql_engine, campaign_id, ledger)
    assert statuses["sent"] + statuses["failed"] == 180


def test_a_connection_already_cut_is_said_in_words() -> None:
    """PyMySQL reports a use of a connection the server already cut as `(0, '')`."""
    import pymysql
    from sqlalchemy.exc import InterfaceError

    from minicrm_desktop.services.campaigns.faults import describe_error

    cut = InterfaceError("SELECT 1", {}, pymysql.err.InterfaceError(0, ""))
    assert describe_error(cut) == "database error: Lost connection to the database server"
    refused = InterfaceError("SELECT 1", {}, pymysql.err.InterfaceError(2003, "Can't connect"))
    assert "2003" in describe_error(refused)
