"""`minicrm segment parse` and `minicrm ai variants`, in-process, offline and through the
local OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.ai.variants import SMS_LIMIT, sms_length
from minicrm_desktop.services.core.settings import (
    AI_BASE_URL,
    AI_MODEL,
    AI_RETRIES,
    QSettingsStore,
    Settings,
)
from tests.segments.population import insert_people

from .conftest import TEST_KEY
from .fake_openai import FakeOpenAI, Reply
from .people import people

SENTENCE = "vip customers in Mumbai or Pune who haven't ordered in 6 months"


def main(argv: list[str]) -> int:
    """The command line as the local admin (a shared MariaDB needs a signed-in user)."""
    return cli_main(argv, actor=LOCAL_ADMIN)


@pytest.fixture
def cli_db(engine: Engine, db_url: str) -> str:
    insert_people(engine, people())
    return db_url


@pytest.fixture
def model_configured(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """The app's settings file names the fake server; the key comes from the environment."""
    settings = Settings(QSettingsStore())
    settings.set(AI_BASE_URL, fake_openai.url)
    settings.set(AI_MODEL, "cli-model")
    settings.set(AI_RETRIES, 0)
    settings.sync()
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    return fake_openai


def test_parse_offline_prints_the_rule(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--db", cli_db, "segment", "parse", SENTENCE, "--offline",
                 "--as-of", "2026-06-15T12:00:00Z"])
    out = capsys.readouterr()
    assert code == 0, out.err
    rule = parse_rule(json.loads(out.out)).to_json()
    assert rule["version"] == 1
    assert rule["rules"] == [
        {"field": "tags", "operator": "contains", "value": "vip"},
        {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
        {"field": "last_order_date", "operator": "notWithinLast",
         "value": {"amount": 6, "unit": "months"}},
    ]
    assert out.err == ""


def test_parse_as_of_sets_this_year(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", cli_db, "segment", "parse", "signed up this year", "--offline",
                 "--as-of", "2024-03-01"]) == 0
    rule = json.loads(capsys.readouterr().out)
    assert rule["rules"] == [{"field": "signup_date", "operator": ">=", "value": "2024-01-01"}]


def test_parse_not_understood_exits_2_with_the_reason(
        cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--db", cli_db, "segment", "parse", "customers in Pune who like cricket",
                 "--offline"])
    out = capsys.readouterr()
    assert code == 2
    assert out.out == ""
    assert 'could not understand "like cricket"' in out.err
    assert "Traceback" not in out.err


def test_parse_through_the_model(cli_db: str, model_configured: FakeOpenAI,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    rule = {"combinator": "and", "not": False, "version": 1,
            "rules": [{"field": "city", "operator": "=", "value": "Pune"}]}
    model_configured.script(Reply.answer({"rule": rule, "not_understood": None}))
    assert main(["--db", cli_db, "segment", "parse", "people in Pune"]) == 0
    assert json.loads(capsys.readouterr().out)["rules"] == rule["rules"]
    request = model_configured.requests[0]
    assert request["model"] == "cli-model"
    # Only names and the sentence: no customer's email reaches the model.
    assert "@" not in json.dumps(request["messages"])


def test_parse_falls_back_when_the_key_is_refused(
        cli_db: str, model_configured: FakeOpenAI, capsys: pytest.CaptureFixture[str]) -> None:
    model_configured.script(Reply.fail(401, "Incorrect API key"))
    assert main(["--db", cli_db, "segment", "parse", "people in Pune"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["rules"] == [{"field": "city", "operator": "=", "value": "Pune"}]
    assert "401" in out.err
    assert "offline parser answered" in out.err


def test_offline_flag_never_calls_the_model(cli_db: str, model_configured: FakeOpenAI,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", cli_db, "segment", "parse", "people in Pune", "--offline"]) == 0
    assert model_configured.requests == []


def test_variants_offline_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ai", "variants", "Win back inactive users", "--channel", "sms",
                 "--offline"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["intent"] == "win-back"
    assert data["engine"] == "Offline templates"
    texts = [v["text"] for v in data["variants"]]
    assert 2 <= len(texts) <= 3
    assert len(set(texts)) == len(texts)
    assert all("{first_name|" in t for t in texts)
    assert all(sms_length(t) <= SMS_LIMIT for t in texts)


def test_variants_through_the_model(model_configured: FakeOpenAI,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    model_configured.script(Reply.answer({"variants": [
        {"text": "Hi {first_name|there}, come back and see what is new!"},
        {"text": "{first_name|Friend}, we saved your favourites in {city|your city}."},
    ]}))
    assert main(["ai", "variants", "Win back inactive users", "--tone", "playful"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["engine"] == "OpenAI (cli-model)"
    assert [v["tone"] for v in data["variants"]] == ["playful", "playful"]
    assert "Win back inactive users" in model_configured.user_messages()[0]


def test_variants_bad_channel_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["ai", "variants", "Sale", "--channel", "fax"])
    assert caught.value.code == 2
    assert "invalid choice: 'fax'" in capsys.readouterr().err
