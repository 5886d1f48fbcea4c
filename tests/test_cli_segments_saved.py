"""`minicrm segment list` and `minicrm segment count --name` (issue 16): the saved segments
from the command line, and the --help texts that name nothing outside the repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from minicrm_desktop.cli.main import build_parser
from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.segments import count_audience
from minicrm_desktop.services.segments.saved import create_segment
from tests.helpers import write_csv

ROOT = Path(__file__).resolve().parent.parent
PUNE = {"combinator": "and", "rules": [{"field": "city", "operator": "=", "value": "Pune"}]}


def main(argv: list[str]) -> int:
    return cli_main(argv, actor=LOCAL_ADMIN)


@pytest.fixture
def with_segments(engine: Engine, db_url: str, tmp_path: Path) -> Engine:
    path = write_csv(tmp_path / "c.csv", "email,city\na@example.com,Pune\nb@example.com,Pune\n"
                     "c@example.com,Delhi\n")
    assert main(["--db", db_url, "import", "customers", str(path)]) == 0
    create_segment(engine, "Pune shoppers", parse_rule(PUNE), description="Lives in Pune",
                   actor=LOCAL_ADMIN)
    create_segment(engine, "Everyone", parse_rule({"combinator": "and", "rules": []}),
                   actor=LOCAL_ADMIN)
    return engine


def test_segment_list(with_segments: Engine, db_url: str,
                      capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--db", db_url, "segment", "list"]) == 0
    assert capsys.readouterr().out == "Everyone\nPune shoppers\tLives in Pune\n"
    assert main(["--db", db_url, "segment", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in listed] == ["Everyone", "Pune shoppers"]
    assert listed[1]["rule"]["rules"][0]["value"] == "Pune"


def test_segment_count_by_name(with_segments: Engine, db_url: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--db", db_url, "segment", "count", "--name", "pune SHOPPERS"]) == 0
    expected = count_audience(with_segments, parse_rule(PUNE))
    assert capsys.readouterr().out.strip() == str(expected) == "2"
    assert main(["--db", db_url, "segment", "count", "--name", "Nobody"]) == 2
    err = capsys.readouterr().err
    assert "no saved segment is called 'Nobody'" in err
    assert "'Pune shoppers'" in err
    assert main(["--db", db_url, "segment", "count"]) == 2
    assert "give either RULE.json or --name NAME" in capsys.readouterr().err


def test_help_names_nothing_outside_the_repository_and_no_password() -> None:
    parser = build_parser()
    texts = [parser.format_help()]
    commands = next(a for a in parser._actions if a.dest == "command")
    for sub in commands.choices.values():  # type: ignore[union-attr]
        texts.append(sub.format_help())
    everything = "\n".join(texts)
    assert "user:pass@" not in everything
    assert "shared/spec" not in everything
    assert "docs/segment-rules.md" in everything
    assert (ROOT / "docs" / "segment-rules.md").is_file()
