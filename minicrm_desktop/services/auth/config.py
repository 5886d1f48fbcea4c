"""Which identity provider MiniCRM trusts, and as which OAuth client.

Google, through a client-secrets JSON (Google Cloud console → Credentials → "Desktop app")
chosen in Settings or named by MINICRM_GOOGLE_CLIENT_SECRETS. Or, in development runs from
source, the development identity provider (`minicrm dev-idp`), named by MINICRM_DEV_IDP, the
matching setting or its client-secrets file. A packaged release talks to Google only.

This chooses whom MiniCRM asks; whom a database lets in is the database's own record (see
services/access/trust.py): a database trusts the dev IdP only when created for it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from minicrm_desktop.services.core.settings import Option, Settings

from ...errors import ConfigError
from ...packaged import is_packaged
from ..access.identity import GOOGLE_ISSUERS

CLIENT_SECRETS_ENV = "MINICRM_GOOGLE_CLIENT_SECRETS"
DEV_IDP_ENV = "MINICRM_DEV_IDP"

GOOGLE_CLIENT_SECRETS = Option("auth/google_client_secrets", "", "Google OAuth client secrets")
DEV_IDP_URL = Option("auth/dev_idp_url", "", "Development identity provider (test builds)")

GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
GOOGLE_CERTS_URI = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_REVOKE_URI = "https://oauth2.googleapis.com/revoke"
_GOOGLE_HOSTS = ("accounts.google.com", "oauth2.googleapis.com", "www.googleapis.com")

#: The one OAuth client the development identity provider knows (not a secret: it is a
#: test server on the user's own machine).
DEV_CLIENT_ID = "minicrm-dev-client.apps.localhost"
DEV_CLIENT_SECRET = "minicrm-dev-secret"

SCOPES = ("openid", "email", "profile")

PACKAGED_GOOGLE_ONLY = ("This MiniCRM release signs in with Google only: the development "
                        "identity provider is for development runs from source.")


@dataclass(frozen=True)
class OAuthConfig:
    """One OAuth client at one identity provider (plain data)."""

    client_id: str
    client_secret: str
    auth_uri: str
    token_uri: str
    certs_uri: str  # {key id: x509 PEM} (Google's v1/certs format)
    revoke_uri: str
    issuers: tuple[str, ...]
    source: str  # where it came from, for messages
    is_google: bool

    @property
    def provider_name(self) -> str:
        return "Google" if self.is_google else "the development identity provider"

    def client_config(self) -> dict[str, Any]:
        """The Google client-secrets shape google-auth-oauthlib's Flow expects."""
        return {
            "installed": {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "auth_uri": self.auth_uri,
                "token_uri": self.token_uri,
                "auth_provider_x509_cert_url": self.certs_uri,
                "redirect_uris": ["http://127.0.0.1"],
            }
        }


def dev_idp_config(base_url: str, *, source: str | None = None) -> OAuthConfig:
    """The endpoints `minicrm dev-idp` serves under `base_url` (http://127.0.0.1:PORT)."""
    base = base_url.strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"The development identity provider URL {base_url!r} is not an "
                          f"http(s) URL such as http://127.0.0.1:8765.")
    if not is_loopback(parts.hostname):
        raise ConfigError(f"The development identity provider must run on this computer "
                          f"(127.0.0.1 or localhost), not {parts.hostname}.")
    return OAuthConfig(
        client_id=DEV_CLIENT_ID,
        client_secret=DEV_CLIENT_SECRET,
        auth_uri=f"{base}/authorize",
        token_uri=f"{base}/token",
        certs_uri=f"{base}/certs",
        revoke_uri=f"{base}/revoke",
        issuers=(base,),
        source=source or f"development identity provider at {base}",
        is_google=False,
    )


def load_client_secrets(path: Path) -> OAuthConfig:
    """Read a Google client-secrets JSON file.

    A file naming endpoints other than Google's describes a development identity provider,
    which a packaged release refuses.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"The OAuth client-secrets file {path} cannot be read: "
                          f"{exc.strerror or exc}.") from None
    except ValueError as exc:
        raise ConfigError(f"The OAuth client-secrets file {path} is not valid JSON: "
                          f"{exc}.") from None
    section = doc.get("installed") or doc.get("web") if isinstance(doc, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(f"The OAuth client-secrets file {path} has no \"installed\" section: "
                          f"download the JSON of a \"Desktop app\" OAuth client.")
    missing = [k for k in ("client_id", "client_secret", "auth_uri", "token_uri")
               if not isinstance(section.get(k), str) or not section[k]]
    if missing:
        raise ConfigError(f"The OAuth client-secrets file {path} lacks "
                          f"{', '.join(missing)}.")
    auth_uri, token_uri = section["auth_uri"], section["token_uri"]
    is_google = all(urlsplit(u).hostname in _GOOGLE_HOSTS and u.startswith("https://")
                    for u in (auth_uri, token_uri))
    if is_google:
        return OAuthConfig(
            client_id=section["client_id"],
            client_secret=section["client_secret"],
            auth_uri=auth_uri,
            token_uri=token_uri,
            certs_uri=GOOGLE_CERTS_URI,  # Google's keys, whatever else the file says
            revoke_uri=GOOGLE_REVOKE_URI,
            issuers=GOOGLE_ISSUERS,
            source=str(path),
            is_google=True,
        )
    issuer = str(section.get("issuer") or "")
    if not issuer:
        raise ConfigError(f"The OAuth client-secrets file {path} names a provider other than "
                          f"Google ({urlsplit(auth_uri).netloc}) without an \"issuer\".")
    if is_packaged():
        raise ConfigError(f"The OAuth client-secrets file {path} names {issuer}, not Google. "
                          f"{PACKAGED_GOOGLE_ONLY}")
    config = dev_idp_config(issuer, source=str(path))
    for uri in (auth_uri, token_uri):
        host = urlsplit(uri).hostname or ""
        if not is_loopback(host):
            raise ConfigError(f"The OAuth client-secrets file {path} names {host or uri}: "
                              f"only Google or a development provider on this computer "
                              f"(127.0.0.1) can be used.")
    return OAuthConfig(
        client_id=section["client_id"],
        client_secret=section["client_secret"],
        auth_uri=auth_uri,
        token_uri=token_uri,
        certs_uri=str(section.get("auth_provider_x509_cert_url") or config.certs_uri),
        revoke_uri=str(section.get("revoke_uri") or config.revoke_uri),
        issuers=(issuer.rstrip("/"),),
        source=str(path),
        is_google=False,
    )


def resolve_oauth_config(settings: Settings | None = None) -> OAuthConfig | None:
    """The configured provider, or None when sign-in is not configured at all.

    Order: MINICRM_DEV_IDP, MINICRM_GOOGLE_CLIENT_SECRETS, then the two settings.
    """
    dev_env = os.environ.get(DEV_IDP_ENV, "").strip()
    dev_setting = settings.get(DEV_IDP_URL).strip() if settings is not None else ""
    if is_packaged() and (dev_env or dev_setting):
        named = DEV_IDP_ENV if dev_env else "The development identity provider setting"
        raise ConfigError(f"{named} names {dev_env or dev_setting}. {PACKAGED_GOOGLE_ONLY}")
    if dev_env:
        return dev_idp_config(dev_env, source=f"{DEV_IDP_ENV}={dev_env}")
    secrets_env = os.environ.get(CLIENT_SECRETS_ENV, "").strip()
    if secrets_env:
        return load_client_secrets(Path(secrets_env).expanduser())
    if dev_setting:
        return dev_idp_config(dev_setting, source="the development identity provider setting")
    path = settings.get(GOOGLE_CLIENT_SECRETS).strip() if settings is not None else ""
    if path:
        return load_client_secrets(Path(path).expanduser())
    return None


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")
