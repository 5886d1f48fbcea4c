"""A rule the model answers with a NOT keeps it all the way: `segment parse` prints it in the
contract's shape, and that text counts, through `segment count`, what the answer meant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.models.rules import load_rule, parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.core.settings import (
    AI_BASE_URL,
    AI_MODEL,
    AI_RETRIES,
    QSettingsStore,
    Settings,
)
from minicrm_desktop.services.segments import count_audience
from tests.segments.population import insert_people

from .conftest import TEST_KEY
from .fake_openai import FakeOpenAI, Reply
from .people import AS_OF, people

SPENT = {"field": "total_spend", "operator": ">", "value": 5000}


def not_vip(negated: bool = True) -> dict[str, Any]:
    return {"combinator": "and", "not": False, "version": 1, "rules": [
        SPENT, {"combinator": "and", "not": negated, "version": None,
                "rules": [{"field": "tags", "operator": "contains", "value": "vip"}]}]}


def test_a_negated_group_from_the_model_counts_what_it_meant(
    engine: Engine, db_url: str, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    insert_people(engine, people())
    settings = Settings(QSettingsStore())
    settings.set(AI_BASE_URL, fake_openai.url)
    settings.set(AI_MODEL, "cli-model")
    settings.set(AI_RETRIES, 0)
    settings.sync()
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    # What a strict structured answer looks like: every key present, nulls included.
    fake_openai.script(Reply.answer({"rule": not_vip(), "not_understood": None}))
    assert cli_main(["--db", db_url, "segment", "parse", "spent over 5000, not vip"],
                    actor=LOCAL_ADMIN) == 0
    printed = capsys.readouterr().out
    assert load_rule(printed) == parse_rule(not_vip())
    assert json.loads(printed)["rules"][1]["not"] is True

    path = tmp_path / "parsed.json"
    path.write_text(printed, encoding="utf-8")
    assert cli_main(["--db", db_url, "segment", "count", str(path), "--as-of",
                     AS_OF.isoformat()], actor=LOCAL_ADMIN) == 0
    counted = int(capsys.readouterr().out)
    meant = count_audience(engine, parse_rule(not_vip()), as_of=AS_OF)
    without_not = count_audience(engine, parse_rule(not_vip(negated=False)), as_of=AS_OF)
    assert counted == meant
    assert meant != without_not  # the population makes the NOT matter
