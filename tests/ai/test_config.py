"""Where the AI settings and the key come from."""

from __future__ import annotations

import pytest

from minicrm_desktop.services.ai.config import AISettings, load_config
from minicrm_desktop.services.core.secrets import OPENAI_API_KEY, SecretsLocked
from minicrm_desktop.services.core.settings import (
    AI_BASE_URL,
    AI_OFFLINE_ONLY,
    AI_RETRIES,
    AI_TIMEOUT_SECONDS,
    DictStore,
    Settings,
)


class Store:
    description = "a test store"

    def __init__(self, key: str | None = None, locked: bool = False) -> None:
        self.key, self.locked, self.reads = key, locked, 0

    def get(self, name: str) -> str | None:
        self.reads += 1
        if self.locked:
            raise SecretsLocked("the secrets file is locked")
        return self.key if name == OPENAI_API_KEY else None


def test_defaults_mean_offline() -> None:
    config = load_config(Settings(DictStore()))
    assert config.api_key is None
    assert not config.use_model
    assert config.model == "gpt-4o-mini"
    assert config.base_url == ""


def test_keyring_key_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(Settings(DictStore()), Store("sk-keyring"))  # type: ignore[arg-type]
    assert (config.api_key, config.key_source) == ("sk-keyring", "keyring")
    assert config.use_model
    assert "sk-keyring" not in repr(config)  # never in logs or messages


def test_environment_key_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    store = Store("sk-keyring")
    config = load_config(Settings(DictStore()), store)  # type: ignore[arg-type]
    assert (config.api_key, config.key_source) == ("sk-env", "environment")
    assert store.reads == 0


def test_a_locked_store_means_no_key() -> None:
    config = load_config(Settings(DictStore()), Store(locked=True))  # type: ignore[arg-type]
    assert config.api_key is None
    assert not config.use_model


def test_settings_are_read_and_clamped() -> None:
    settings = Settings(DictStore({AI_BASE_URL.key: " http://localhost:11434/v1 ",
                                   AI_TIMEOUT_SECONDS.key: "0", AI_RETRIES.key: "99",
                                   AI_OFFLINE_ONLY.key: "true"}))
    config = load_config(settings)
    assert config.base_url == "http://localhost:11434/v1"
    assert (config.timeout_s, config.retries, config.offline_only) == (1.0, 10, True)


def test_snapshot_reads_no_secret_and_resolve_does() -> None:
    store = Store("sk-keyring")
    ai = AISettings(Settings(DictStore()), lambda: store)  # type: ignore[arg-type, return-value]
    snapshot = ai.snapshot()
    assert store.reads == 0
    assert snapshot.api_key is None
    assert ai.resolve(snapshot).api_key == "sk-keyring"
    offline = snapshot.offline()
    assert ai.resolve(offline).api_key is None  # offline never reads the key
