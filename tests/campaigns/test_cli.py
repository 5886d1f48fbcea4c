"""`minicrm campaign …` and `minicrm vendor ledger`, in-process and as the user runs them."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.services.access.actor import LOCAL_ADMIN


def main(argv: list[str]) -> int:
    """`minicrm` as the local admin: a MariaDB database would otherwise need a sign-in,
    and these tests are about data, not roles (tests/access covers those)."""
    return cli_main(argv, actor=LOCAL_ADMIN)


@pytest.fixture
def rule_file(tmp_path: Path) -> Path:
    path = tmp_path / "rule.json"
    path.write_text(
        json.dumps(
            {
                "combinator": "and",
                "rules": [{"field": "subscribed", "operator": "=", "value": True}],
            }
        )
    )
    return path


def send(db_url: str, rule: Path, ledger: Path, *extra: str) -> list[str]:
    return [
        "--db",
        db_url,
        "campaign",
        "send",
        "--name",
        "Diwali",
        "--rule",
        str(rule),
        "--message",
        "Hi {first_name|there}",
        "--message",
        "Hello {name}",
        "--ledger",
        str(ledger),
        "--retry-seconds",
        "0.001",
        "--workers",
        "2",
        *extra,
    ]


def test_send_list_show_log_and_ledger(
    population: Engine, db_url: str, rule_file: Path, ledger_path: Path, capsys
) -> None:
    assert main(send(db_url, rule_file, ledger_path, "--vendor-seed", "4")) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["audience"] == 180  # subscribed customers only
    assert summary["sent"] + summary["failed"] + summary["skipped"] == 180
    assert summary["status"] == "completed"

    assert main(["--db", db_url, "campaign", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in listed] == [summary["campaign_id"]]
    assert listed[0]["sent"] == summary["sent"]

    assert main(["--db", db_url, "campaign", "show", str(summary["campaign_id"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert sum(v["sent"] for v in shown["variants"]) == summary["sent"]

    assert main(["--db", db_url, "campaign", "log", str(summary["campaign_id"]), "--csv"]) == 0
    log = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(log) == 180
    assert sum(r["status"] == "sent" for r in log) == summary["sent"]
    assert all(r["email"] == r["email"].lower() for r in log)

    assert main(["--db", db_url, "vendor", "ledger", "--ledger", str(ledger_path), "--csv"]) == 0
    ledger = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sum(r["outcome"] == "sent" for r in ledger) == summary["sent"]

    # Without --json or --csv: words and a table a person reads, not Python reprs or CSV.
    campaign = str(summary["campaign_id"])
    assert main(["--db", db_url, "campaign", "show", campaign]) == 0
    text = capsys.readouterr().out
    assert f"Campaign {campaign}: " in text
    assert f"Sent:         {summary['sent']:,}" in text
    rate = summary["sent"] / (summary["sent"] + summary["failed"])
    assert f"Success rate: {rate:.1%}" in text
    assert not re.search(r"\[\{|\[\(|\{'|0\.\d{5,}", text), text
    assert main(["--db", db_url, "campaign", "log", campaign]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["email", "variant", "status", "attempts", "updated", "(UTC)",
                                "reason"]
    assert len(lines) == 181
    assert "," not in lines[1]
    assert sum(line.split()[2] == "sent" for line in lines[1:]) == summary["sent"]


def test_unknown_token_is_refused_before_anything_is_sent(
    population: Engine, db_url: str, rule_file: Path, ledger_path: Path, capsys
) -> None:
    args = send(db_url, rule_file, ledger_path)
    args[args.index("Hi {first_name|there}")] = "Hi {frist_name}"
    assert main(args) == 2
    assert "variant A: unknown token {frist_name}" in capsys.readouterr().err
    assert main(["--db", db_url, "campaign", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_resume_errors(population: Engine, db_url: str, capsys) -> None:
    assert main(["--db", db_url, "campaign", "resume", "99"]) == 2
    assert "there is no campaign 99" in capsys.readouterr().err
