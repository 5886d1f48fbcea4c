"""`minicrm segment count|emails|validate` in-process and once through `python -m`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.services.access.actor import LOCAL_ADMIN

from .conftest import cond, edge_people, where
from .population import insert_people

PUNE_OR_VIP = where(cond("city", "=", "PUNE"), cond("tags", "contains", "vip"), combinator="or")


def main(argv: list[str]) -> int:
    """The command line as the local admin (a shared MariaDB needs a signed-in user)."""
    return cli_main(argv, actor=LOCAL_ADMIN)


@pytest.fixture
def cli_db(engine: Engine, db_url: str) -> str:
    insert_people(engine, edge_people())
    return db_url


def write(tmp_path: Path, data: object, name: str = "rule.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_count_prints_the_count_alone(cli_db: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", cli_db, "segment", "count", write(tmp_path, PUNE_OR_VIP)]) == 0
    out = capsys.readouterr()
    assert out.out == "3\n"
    assert out.err == ""


def test_emails_are_lower_cased_and_sorted(cli_db: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", cli_db, "segment", "emails", write(tmp_path, PUNE_OR_VIP)]) == 0
    assert capsys.readouterr().out == "pune@x.in\nzoe2@x.in\nzoe@x.in\n"


def test_as_of_sets_the_clock(cli_db: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    rule = write(tmp_path, where(cond("signup_date", "withinLast", {"amount": 1, "unit": "days"})))
    assert main(["--db", cli_db, "segment", "emails", rule, "--as-of", "2026-05-02"]) == 0
    assert capsys.readouterr().out == "padded@x.in\npune@x.in\nzoe@x.in\n"  # bounds inclusive
    assert main(["--db", cli_db, "segment", "count", rule, "--as-of",
                 "2026-05-01T05:30:00+05:30"]) == 0
    assert capsys.readouterr().out == "2\n"  # zoe2 (Apr 30 23:59:59.999999) and zoe (May 1 00:00)


def test_dash_reads_standard_input(cli_db: str, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(PUNE_OR_VIP)))
    assert main(["--db", cli_db, "segment", "count", "-"]) == 0
    assert capsys.readouterr().out == "3\n"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (json.dumps(where(cond("total_spend", ">", "abc"))),
         'rules[0].value: expected a number, got "abc"'),
        (json.dumps(where(cond("total_spend", "contains", "1"))),
         'rules[0].operator: "contains" is not an operator of number field "total_spend"'),
        ("{not json", "is not valid JSON: Expecting property name enclosed in double quotes"),
        ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
        (json.dumps({"version": 9, "combinator": "and", "rules": []}), "version: version 9"),
    ],
)
def test_a_bad_rule_exits_2_with_the_reason_on_one_line(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, reason: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    for action in ("count", "emails", "validate"):
        assert main(["--db", cli_db, "segment", action, str(path)]) == 2
        out = capsys.readouterr()
        assert out.out == ""
        assert out.err.startswith("minicrm: error: ")
        assert reason in out.err
        assert out.err.count("\n") == 1


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["segment", "count", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_validate_needs_no_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", "mysql+pymysql://nobody@127.0.0.1:1/none", "segment", "validate",
                 write(tmp_path, PUNE_OR_VIP)]) == 0
    assert capsys.readouterr().out == "valid\n"


def test_help_describes_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["segment", "count", "--help"])
    assert info.value.code == 0
    assert "--as-of" in capsys.readouterr().out


def test_python_dash_m_runs_the_same_commands(cli_db: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    run = subprocess.run(
        [sys.executable, "-m", "minicrm_desktop", "--db", cli_db, "segment", "emails", "-"],
        input=json.dumps(PUNE_OR_VIP), capture_output=True, text=True, env=env, timeout=120,
        check=False,
    )
    if cli_db.startswith("mysql"):
        # A shared database: reading it needs a signed-in user too, and nobody signed in.
        assert run.returncode == 3
        assert run.stdout == ""
        assert "sign in" in run.stderr
        return
    assert (run.returncode, run.stdout, run.stderr) == (0, "pune@x.in\nzoe2@x.in\nzoe@x.in\n", "")
    bad = subprocess.run(
        [sys.executable, "-m", "minicrm_desktop", "--db", cli_db, "segment", "count",
         write(tmp_path, where(cond("city", "=", "")))],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr == ('minicrm: error: rules[0].value: expected a non-empty text '
                          '(use the "null" operator for empty values)\n')
