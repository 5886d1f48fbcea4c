"""Typed application settings, each declared once with its default.

Values live in a `SettingsStore`: QSettings in the app (an INI file in the user's config
folder), a plain dict in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import platformdirs

from minicrm_desktop import APP_NAME, APP_ORG

T = TypeVar("T")


class SettingsStore(Protocol):
    def value(self, key: str) -> Any: ...
    def set_value(self, key: str, value: Any) -> None: ...
    def sync(self) -> None: ...


class DictStore:
    """In-memory settings for tests."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = dict(values or {})

    def value(self, key: str) -> Any:
        return self.values.get(key)

    def set_value(self, key: str, value: Any) -> None:
        self.values[key] = value

    def sync(self) -> None:
        pass


class QSettingsStore:
    """QSettings in an INI file (QtCore only). The path is explicit so that it follows
    the XDG folders at call time, which tests redirect."""

    def __init__(self, path: Path | None = None) -> None:
        from PySide6.QtCore import QSettings

        self.path = path or settings_path()
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    def value(self, key: str) -> Any:
        return self._qs.value(key)

    def set_value(self, key: str, value: Any) -> None:
        self._qs.setValue(key, value)

    def sync(self) -> None:
        self._qs.sync()


def settings_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, APP_ORG)) / "settings.ini"


@dataclass(frozen=True)
class Option(Generic[T]):
    key: str
    default: T
    title: str

    def convert(self, raw: Any) -> T:
        """INI files give strings back; turn them into the option's type."""
        if raw is None:
            return self.default
        kind = type(self.default)
        try:
            if kind is bool:
                if isinstance(raw, str):
                    return raw.strip().lower() in ("true", "1", "yes")  # type: ignore[return-value]
                return bool(raw)  # type: ignore[return-value]
            if kind is int:
                return int(raw)  # type: ignore[return-value]
            if kind is str:
                return str(raw)  # type: ignore[return-value]
            if kind is bytes:
                return bytes(raw.data() if hasattr(raw, "data") else raw)  # type: ignore
        except (TypeError, ValueError):
            return self.default
        return raw


WINDOW_GEOMETRY = Option("window/geometry", b"", "Main window geometry")
WINDOW_STATE = Option("window/state", b"", "Main window toolbars and docks")
LAST_PAGE = Option("window/last_page", "customers", "Page shown at start")
CUSTOMER_HIDDEN_COLUMNS = Option("customers/hidden_columns", "",
                                 "Customers table columns hidden (comma-separated keys)")
CUSTOMER_DETAIL_SHOWN = Option("customers/detail_shown", True,
                               "Show the customer detail panel")
DEMO_OFFER_DISMISSED = Option(
    "first_start/demo_offer_dismissed", False, "Do not offer demo data again"
)
DEMO_CUSTOMERS = Option("first_start/demo_customers", 10_000, "Demo customers to create")
# MySQL/MariaDB over TLS (MINICRM_MYSQL_SSL_CA / MINICRM_MYSQL_REQUIRE_TLS override them).
MYSQL_SSL_CA = Option("database/mysql_ssl_ca", "", "CA certificate file for MySQL TLS")
MYSQL_REQUIRE_TLS = Option("database/mysql_require_tls", False, "Require TLS for MySQL")

# Email campaigns: who they are from, unless a campaign says otherwise, and the footer.
EMAIL_SENDER_NAME = Option("email/sender_name", "MiniCRM", "Default email sender name")
EMAIL_SENDER_ADDRESS = Option("email/sender_address", "marketing@example.com",
                              "Default email from-address")
EMAIL_FOOTER = Option("email/footer", "You get this email as our customer. Unsubscribe: "
                      "{unsubscribe_url}", "Footer of every email (keep {unsubscribe_url})")

# The AI assistant (services/ai). The API key is never a setting: it lives in the keyring.
AI_MODEL = Option("ai/model", "gpt-4o-mini", "AI model")
AI_BASE_URL = Option("ai/base_url", "", "AI server base URL (empty: OpenAI)")
AI_TIMEOUT_SECONDS = Option("ai/timeout_seconds", 30, "AI request timeout, seconds")
AI_RETRIES = Option("ai/retries", 2, "AI request retries")
AI_OFFLINE_ONLY = Option("ai/offline_only", False, "Use the offline engine only")


class Settings:
    """Typed access to a store: `settings.get(LAST_PAGE)`."""

    def __init__(self, store: SettingsStore) -> None:
        self.store = store

    def get(self, option: Option[T]) -> T:
        return option.convert(self.store.value(option.key))

    def set(self, option: Option[T], value: T) -> None:
        self.store.set_value(option.key, value)

    def sync(self) -> None:
        self.store.sync()
