"""Dates the views show, in local time, even at the calendar's edges (a real process, so
the time zone is the one a user in India has)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
from datetime import UTC, datetime
from minicrm_desktop.views.common.formatting import format_date, format_datetime
print(format_date(datetime(2026, 5, 1, 20, 0, tzinfo=UTC)))
print(format_date(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)))
print(format_datetime(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)))
"""


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York"])
def test_dates_at_the_calendars_edges_are_shown(zone: str) -> None:
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         env={**os.environ, "TZ": zone}, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == ("02 May 2026" if zone == "Asia/Kolkata" else "01 May 2026")
    east = zone == "Asia/Kolkata"
    assert lines[1] == ("31 Dec 9999 UTC" if east else "31 Dec 9999")
    assert lines[2] == ("31 Dec 9999, 23:59 UTC" if east else "31 Dec 9999, 18:59")
