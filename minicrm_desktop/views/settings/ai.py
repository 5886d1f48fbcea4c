"""Settings → AI assistant: the model, server, timeout, retries, "offline only", the API key
(kept in the OS keyring, never in the settings file) and what is sent where."""

from __future__ import annotations

import os
from typing import TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from minicrm_desktop.services.ai import ENV_KEY, AISettings
from minicrm_desktop.services.core.secrets import OPENAI_API_KEY, SecretStoreError
from minicrm_desktop.services.core.settings import (
    AI_BASE_URL,
    AI_MODEL,
    AI_OFFLINE_ONLY,
    AI_RETRIES,
    AI_TIMEOUT_SECONDS,
    Option,
)
from minicrm_desktop.views.common.passphrase import ask_secrets_passphrase
from minicrm_desktop.views.common.widgets import ERROR_COLOR
from minicrm_desktop.views.settings.changes import ADMINS_ONLY, SettingChanges

T = TypeVar("T")
#: Names a key change in the audit log; the key itself lives in the keyring, never here.
API_KEY_CHANGE = Option("ai/api_key", "", "AI API key (kept in the keyring)")
PRIVACY = (
    "No customer's personal data is ever sent to the AI. Only your sentence, the list of "
    "rule fields, city and tag names, a campaign's objective and audience rule, and "
    "aggregate campaign figures go to the server above, and only when you ask for help. "
    "Without a key, or with “offline only”, everything stays on this computer."
)


class AISettingsGroup(QGroupBox):
    #: The key was saved or removed (the status text).
    key_changed = Signal(str)
    #: A setting was checked, audited and stored (its key).
    saved = Signal(str)

    def __init__(self, ai: AISettings, changes: SettingChanges,
                 parent: QWidget | None = None) -> None:
        super().__init__("AI assistant", parent)
        self.setObjectName("settings_ai")
        self._ai = ai
        self._changes = changes
        settings = ai.settings
        column = QVBoxLayout(self)
        form = QFormLayout()
        self.model = QLineEdit(settings.get(AI_MODEL))
        self.model.setPlaceholderText(AI_MODEL.default)
        self.model.editingFinished.connect(
            lambda: self._save(AI_MODEL, self.model.text().strip() or AI_MODEL.default))
        form.addRow("Model:", self.model)
        self.base_url = QLineEdit(settings.get(AI_BASE_URL))
        self.base_url.setPlaceholderText("OpenAI; or e.g. http://localhost:11434/v1 (Ollama)")
        self.base_url.setToolTip("Any OpenAI-compatible server: OpenAI, Azure OpenAI, a local "
                                 "Ollama or LM Studio. Empty means OpenAI.")
        self.base_url.editingFinished.connect(
            lambda: self._save(AI_BASE_URL, self.base_url.text().strip()))
        form.addRow("Server base URL:", self.base_url)
        limits = QHBoxLayout()
        self.timeout = QSpinBox()
        self.timeout.setRange(1, 600)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(settings.get(AI_TIMEOUT_SECONDS))
        self.timeout.valueChanged.connect(lambda v: self._save(AI_TIMEOUT_SECONDS, int(v)))
        self.retries = QSpinBox()
        self.retries.setRange(0, 10)
        self.retries.setValue(settings.get(AI_RETRIES))
        self.retries.valueChanged.connect(lambda v: self._save(AI_RETRIES, int(v)))
        limits.addWidget(self.timeout)
        limits.addWidget(QLabel("Retries:"))
        limits.addWidget(self.retries)
        limits.addStretch(1)
        form.addRow("Timeout:", limits)
        self.offline_only = QCheckBox("Use the offline engine only (never contact a server)")
        self.offline_only.setChecked(settings.get(AI_OFFLINE_ONLY))
        self.offline_only.toggled.connect(lambda on: self._save(AI_OFFLINE_ONLY, bool(on)))
        form.addRow("", self.offline_only)
        key_row = QHBoxLayout()
        self.key = QLineEdit()
        self.key.setObjectName("settings_ai_key")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("sk-… (never kept in the settings file)")
        self.save_key_button = QPushButton("Save key")
        self.save_key_button.clicked.connect(self.save_key)
        self.remove_key_button = QPushButton("Remove key")
        self.remove_key_button.clicked.connect(self.remove_key)
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.save_key_button)
        key_row.addWidget(self.remove_key_button)
        form.addRow("API key:", key_row)
        column.addLayout(form)
        self.key_status = QLabel(self._env_note())
        self.key_status.setObjectName("settings_ai_key_status")
        self.key_status.setWordWrap(True)
        column.addWidget(self.key_status)
        privacy = QLabel(PRIVACY)
        privacy.setObjectName("settings_ai_privacy")
        privacy.setWordWrap(True)
        privacy.setEnabled(False)
        column.addWidget(privacy)
        if not changes.allowed:  # the server checks too; this only says so up front
            for widget in (self.model, self.base_url, self.timeout, self.retries,
                           self.offline_only, self.key, self.save_key_button,
                           self.remove_key_button):
                widget.setEnabled(False)
            self.key_status.setText(ADMINS_ONLY)

    @staticmethod
    def _env_note() -> str:
        if os.environ.get(ENV_KEY, "").strip():
            return f"{ENV_KEY} is set in the environment: that key is used first."
        return ("Without a key the offline parser and templates answer. A key saved here is "
                "kept in the system keyring (or, where there is none, the passphrase-"
                "encrypted secrets file), never in the settings file.")

    def _save(self, option: Option[T], value: T) -> None:
        settings = self._ai.settings

        def store() -> None:
            settings.set(option, value)
            settings.sync()
            self.saved.emit(option.key)

        self._changes.change(option, settings.get(option), value, then=store,
                             failed=lambda text: self._status(text, error=True))

    def _status(self, text: str, *, error: bool = False) -> None:
        self.key_status.setText(text)
        self.key_status.setStyleSheet(f"color: {ERROR_COLOR.name()};" if error else "")
        self.key_changed.emit(text)

    def save_key(self) -> None:
        """Store the typed key in the secret store. A keyring is a local service; this one
        call at the user's request is quick (no network)."""
        key = self.key.text().strip()
        if not key:
            self._status("Type or paste the API key first.", error=True)
            return
        store = self._ai.secret_store()
        if store is None:
            self.key.clear()
            self._status(f"No keyring is available here: set {ENV_KEY} instead.", error=True)
            return
        if getattr(store, "needs_passphrase", False):
            passphrase = self.ask_passphrase(self, creating=not store.locked_file_exists)
            if passphrase is None:
                self.key.clear()
                self._status("The key was not saved: no system keyring was found, and the "
                             f"encrypted file needs a passphrase. Or set {ENV_KEY}.", error=True)
                return
            store.unlock(passphrase)
        self.key.clear()  # never left in a widget

        def keep() -> None:
            try:
                store.set(OPENAI_API_KEY, key)
            except SecretStoreError as exc:
                self._status(f"The key was not saved: {exc}", error=True)
                return
            self._status(f"Key saved in {store.description}.")

        self._changes.change(API_KEY_CHANGE, "", "set", then=keep, secret=True,
                             failed=lambda text: self._status(text, error=True))

    @classmethod
    def ask_passphrase(cls, parent: QWidget | None, *, creating: bool) -> str | None:
        """The encrypted secrets file's passphrase, or None. Tests replace this."""
        return ask_secrets_passphrase(parent, keeps="the API key", creating=creating)

    def remove_key(self) -> None:
        store = self._ai.secret_store()
        if store is None:
            self._status("No keyring is available here: nothing to remove.", error=True)
            return

        def forget() -> None:
            try:
                store.delete(OPENAI_API_KEY)
            except SecretStoreError as exc:
                self._status(f"The key was not removed: {exc}", error=True)
                return
            self._status(f"Key removed from {store.description}.")

        self._changes.change(API_KEY_CHANGE, "set", "", then=forget, secret=True,
                             failed=lambda text: self._status(text, error=True))
