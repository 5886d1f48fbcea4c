"""The AI settings as one plain value, read on the GUI thread and handed to tasks.

The API key comes from the OPENAI_API_KEY environment variable, else from the secret
store (the OS keyring); it is never a setting and never shown or logged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from minicrm_desktop.services.core.secrets import OPENAI_API_KEY, SecretStore, SecretStoreError
from minicrm_desktop.services.core.settings import (
    AI_BASE_URL,
    AI_MODEL,
    AI_OFFLINE_ONLY,
    AI_RETRIES,
    AI_TIMEOUT_SECONDS,
    Settings,
)

log = logging.getLogger(__name__)
ENV_KEY = "OPENAI_API_KEY"
OPENAI_LABEL = "OpenAI"
OFFLINE_LABEL = "Offline parser"
TEMPLATES_LABEL = "Offline templates"


@dataclass(frozen=True)
class AIConfig:
    model: str = AI_MODEL.default
    base_url: str = ""
    timeout_s: float = float(AI_TIMEOUT_SECONDS.default)
    retries: int = AI_RETRIES.default
    offline_only: bool = False
    api_key: str | None = field(default=None, repr=False)
    #: Where the key came from, for Settings: "environment", "keyring" or "".
    key_source: str = ""

    @property
    def use_model(self) -> bool:
        """Whether the model is asked first (a key is set and offline is not chosen)."""
        return bool(self.api_key) and not self.offline_only

    @property
    def model_label(self) -> str:
        return f"{OPENAI_LABEL} ({self.model})"

    def offline(self) -> AIConfig:
        return replace(self, offline_only=True)


def read_api_key(secrets: SecretStore | None) -> tuple[str | None, str]:
    """(key, source): the environment first, then the secret store."""
    env = os.environ.get(ENV_KEY, "").strip()
    if env:
        return env, "environment"
    if secrets is None:
        return None, ""
    try:
        stored = secrets.get(OPENAI_API_KEY)
    except SecretStoreError as exc:  # a locked or missing store: no key, say why in the log
        log.info("no API key from the secret store: %s", type(exc).__name__)
        return None, ""
    return (stored, "keyring") if stored else (None, "")


def load_config(settings: Settings, secrets: SecretStore | None = None) -> AIConfig:
    """The AI settings and key, as a plain value for a task."""
    key, source = read_api_key(secrets)
    timeout = settings.get(AI_TIMEOUT_SECONDS)
    retries = settings.get(AI_RETRIES)
    return AIConfig(
        model=settings.get(AI_MODEL).strip() or AI_MODEL.default,
        base_url=settings.get(AI_BASE_URL).strip(),
        timeout_s=float(max(1, min(600, timeout))),
        retries=max(0, min(10, retries)),
        offline_only=settings.get(AI_OFFLINE_ONLY),
        api_key=key,
        key_source=source,
    )


class AISettings:
    """Where the views get their AI config: the settings are read on the GUI thread
    (`snapshot`), the key inside the task (`resolve`), since a keyring may be slow or ask
    to be unlocked. Tests pass `api_key` explicitly instead of a secret store."""

    def __init__(
        self,
        settings: Settings,
        secrets: Callable[[], SecretStore | None] | None = None,
        *,
        api_key: str | None = None,
    ) -> None:
        self.settings = settings
        self._secrets = secrets
        self._api_key = api_key

    def snapshot(self) -> AIConfig:
        """The settings alone (no key yet): cheap, for the GUI thread."""
        return load_config(self.settings, None)

    def resolve(self, config: AIConfig) -> AIConfig:
        """`config` with its key; runs in the task."""
        if config.offline_only:
            return config
        if self._api_key is not None:
            return replace(config, api_key=self._api_key or None, key_source="given")
        key, source = read_api_key(self._secrets() if self._secrets else None)
        return replace(config, api_key=key, key_source=source)

    def secret_store(self) -> SecretStore | None:
        return self._secrets() if self._secrets else None
