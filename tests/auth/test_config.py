"""Which provider is trusted: Google's client secrets, the dev IdP, packaged releases."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from minicrm_desktop.errors import ConfigError
from minicrm_desktop.services.access.identity import GOOGLE_ISSUERS
from minicrm_desktop.services.auth.access_mode import requires_sign_in
from minicrm_desktop.services.auth.config import (
    DEV_IDP_URL,
    GOOGLE_CERTS_URI,
    GOOGLE_CLIENT_SECRETS,
    dev_idp_config,
    load_client_secrets,
    resolve_oauth_config,
)
from minicrm_desktop.services.auth.dev_idp import DevIdentityProvider
from minicrm_desktop.services.core.settings import DictStore, Settings

GOOGLE_FILE = {"installed": {
    "client_id": "42-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-x",
    "project_id": "minicrm", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
    "token_uri": "https://oauth2.googleapis.com/token",
    "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
    "redirect_uris": ["http://localhost"],
}}


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MINICRM_DEV_IDP", raising=False)
    monkeypatch.delenv("MINICRM_GOOGLE_CLIENT_SECRETS", raising=False)


def write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "client.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_google_client_secrets_from_settings(tmp_path: Path) -> None:
    settings = Settings(DictStore({GOOGLE_CLIENT_SECRETS.key: str(write(tmp_path, GOOGLE_FILE))}))
    config = resolve_oauth_config(settings)
    assert config is not None
    assert config.is_google
    assert config.client_id == "42-abc.apps.googleusercontent.com"
    assert config.issuers == GOOGLE_ISSUERS
    assert config.certs_uri == GOOGLE_CERTS_URI


def test_nothing_configured() -> None:
    assert resolve_oauth_config(Settings(DictStore())) is None


def test_env_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINICRM_GOOGLE_CLIENT_SECRETS", str(write(tmp_path, GOOGLE_FILE)))
    config = resolve_oauth_config(None)
    assert config is not None
    assert config.is_google


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("not json", "is not valid JSON"),
        ({"other": {}}, 'has no "installed" section'),
        ({"installed": {"client_id": "x", "auth_uri": "https://accounts.google.com/a"}},
         "lacks client_secret, token_uri"),
        ({"installed": {**GOOGLE_FILE["installed"], "token_uri": "https://evil.example.com/t"}},
         "without an \"issuer\""),
    ],
)
def test_bad_client_secrets_are_named(tmp_path: Path, doc: object, message: str) -> None:
    path = tmp_path / "client.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_client_secrets(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"client.json cannot be read"):
        load_client_secrets(tmp_path / "client.json")


def test_a_non_loopback_provider_is_refused(tmp_path: Path) -> None:
    doc = {"installed": {**GOOGLE_FILE["installed"], "issuer": "https://idp.example.com",
                         "auth_uri": "https://idp.example.com/auth",
                         "token_uri": "https://idp.example.com/token"}}
    with pytest.raises(ConfigError, match="must run on this computer"):
        load_client_secrets(write(tmp_path, doc))
    with pytest.raises(ConfigError, match="must run on this computer"):
        dev_idp_config("https://idp.example.com")


def test_a_packaged_release_never_uses_the_dev_idp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    idp = DevIdentityProvider()  # not started: only its client-secrets file is needed
    try:
        path = idp.write_client_secrets(tmp_path / "dev.json")
        assert not load_client_secrets(path).is_google  # a run from source may use it
        monkeypatch.setenv("MINICRM_DEV_IDP", idp.base_url)
        assert resolve_oauth_config(None) is not None
        monkeypatch.setattr(sys, "frozen", True, raising=False)  # as PyInstaller sets it
        # Not by its client-secrets file, not by MINICRM_DEV_IDP, not by the setting.
        with pytest.raises(ConfigError, match="release signs in with Google only"):
            load_client_secrets(path)
        with pytest.raises(ConfigError, match=r"MINICRM_DEV_IDP names .*Google only"):
            resolve_oauth_config(None)
        monkeypatch.delenv("MINICRM_DEV_IDP")
        monkeypatch.setenv("MINICRM_GOOGLE_CLIENT_SECRETS", str(path))
        with pytest.raises(ConfigError, match="Google only"):
            resolve_oauth_config(None)
        settings = Settings(DictStore({DEV_IDP_URL.key: idp.base_url}))
        with pytest.raises(ConfigError, match="setting names .*Google only"):
            resolve_oauth_config(settings)
        # Google's own file still works.
        monkeypatch.setenv("MINICRM_GOOGLE_CLIENT_SECRETS", str(write(tmp_path, GOOGLE_FILE)))
        config = resolve_oauth_config(None)
        assert config is not None
        assert config.is_google
    finally:
        idp.close()


def test_local_mode_and_shared_mysql(tmp_path: Path) -> None:
    sqlite = make_url(f"sqlite:///{tmp_path / 'crm.db'}")
    mysql = make_url("mysql+pymysql://crm@db.example.com/crm")
    google = load_client_secrets(write(tmp_path, GOOGLE_FILE))
    assert requires_sign_in(sqlite, None) is False
    assert requires_sign_in(sqlite, google) is True
    assert requires_sign_in(mysql, google) is True
    with pytest.raises(ConfigError, match="shared MySQL database requires everyone to sign in"):
        requires_sign_in(mysql, None)
