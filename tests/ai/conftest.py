"""AI tests: a real OpenAI-compatible server on 127.0.0.1, and configs that point at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from minicrm_desktop.services.ai.config import AIConfig

from .fake_openai import FakeOpenAI

TEST_KEY = "sk-test-not-a-real-key"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ai_config(fake_openai: FakeOpenAI) -> AIConfig:
    """The real client, aimed at the fake server: short timeout, no retries unless asked."""
    return AIConfig(model="test-model", base_url=fake_openai.url, timeout_s=5.0, retries=0,
                    api_key=TEST_KEY, key_source="test")


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys are passed explicitly in these tests, never read from the environment."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
