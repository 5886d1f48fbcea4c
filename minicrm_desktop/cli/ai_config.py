"""The AI settings for the command line: the app's settings file and key, or offline."""

from __future__ import annotations

from ..services.ai.config import AIConfig, load_config


def cli_ai_config(*, offline: bool) -> AIConfig:
    """The desktop app's AI settings (and its key from the environment or keyring); with
    `offline`, nothing is read and the offline engine answers."""
    if offline:
        return AIConfig(offline_only=True)
    from minicrm_desktop.services.core.secrets import SecretStoreError, default_secret_store
    from minicrm_desktop.services.core.settings import QSettingsStore, Settings

    try:
        secrets = default_secret_store()
    except SecretStoreError:  # nowhere to read a stored key: only the environment counts
        secrets = None
    return load_config(Settings(QSettingsStore()), secrets)
