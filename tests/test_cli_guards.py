"""The command line refuses malformed input with one line and exit 2, never a traceback;
`import --now` makes an import reproducible."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from tests.helpers import snapshot, write_csv

HUGE = "9" * 5000


def main(argv: list[str]) -> int:
    return cli_main(argv, actor=LOCAL_ADMIN)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('{"rules": [{"field": "visits", "operator": ">", "value": ' + HUGE + "}]}",
         "rules[0].value: number out of range"),
        ('{"rules": [{"field": "city", "operator": "=", "value": "\\ud800"}]}',
         "rules[0].value: text is not valid Unicode (a lone surrogate U+D800)"),
        ('{"rules": [{"field": "city", "operator": "=", "value": " "}]}',
         "rules[0].value: expected a non-empty text"),
        ('{"rules": [{"field": "signup_date", "operator": ">", "value": "20260501"}]}',
         "rules[0].value: expected an ISO 8601 date"),
        ('{"rules": [{"field": "total_spend", "operator": ">", "value": "२०००"}]}',
         'rules[0].value: expected a number, got "२०००"'),
    ],
)
def test_segment_count_refuses_malformed_rules_with_exit_2(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], rule: str, message: str
) -> None:
    path = tmp_path / "rule.json"
    path.write_text(rule, encoding="utf-8")
    assert main(["--db", sqlite_url, "segment", "count", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"minicrm: error: {message}")
    assert captured.err.count("\n") == 1


def test_the_amended_points_count_in_the_cli(sqlite_url: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    customers = write_csv(tmp_path / "c.csv", "email,tags\na@example.com,VIP\nb@example.com,\n")
    assert main(["--db", sqlite_url, "import", "customers", str(customers)]) == 0
    rule = tmp_path / "rule.json"
    rule.write_text('{"rules": [{"field": "tags", "operator": "contains", "value": " Vip "},'
                    '{"field": "city", "operator": "null", "value": "left over"}]}',
                    encoding="utf-8")
    capsys.readouterr()
    assert main(["--db", sqlite_url, "segment", "count", str(rule)]) == 0
    assert capsys.readouterr().out == "1\n"


def test_text_arguments_that_are_not_utf8_are_refused(sqlite_url: str, tmp_path: Path) -> None:
    """A real process, so the name arrives as the bytes a shell passes."""
    rule = tmp_path / "rule.json"
    rule.write_text('{"rules": []}', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    for argv in ([b"campaign", b"send", b"--name", b"Diwali \xff", b"--rule", str(rule).encode(),
                  b"--message", b"Hi"],
                 [b"campaign", b"send", b"--name", b"Diwali", b"--segment", b"\xfe\xff",
                  b"--message", b"Hi"]):
        run = subprocess.run([sys.executable.encode(), b"-m", b"minicrm_desktop", b"--db",
                              sqlite_url.encode(), *argv],
                             capture_output=True, env=env, timeout=120, check=False)
        assert run.returncode == 2
        assert run.stdout == b""
        assert run.stderr.startswith(b"minicrm: error: the ")
        assert b"argument is not valid UTF-8 text" in run.stderr
        assert b"Traceback" not in run.stderr


def test_import_now_makes_an_import_reproducible(engine: Engine, db_url: str,
                                                 tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", "email,signup_date\na@example.com,\n")
    assert main(["--db", db_url, "import", "customers", str(path),
                 "--now", "2026-12-02T09:30:00+05:30"]) == 0
    first = snapshot(engine)
    assert str(first["customers"][0][first_signup_index()]).startswith("2026-12-02 04:00:00")
    with pytest.raises(SystemExit) as usage:  # argparse's usage error: one line, exit 2
        main(["--db", db_url, "import", "customers", "--now", "20261202", str(path)])
    assert usage.value.code == 2


def first_signup_index() -> int:
    from minicrm_desktop.models import Customer

    names = [c.name for c in Customer.__table__.c if c.name != "id"]
    return names.index("signup_date")
