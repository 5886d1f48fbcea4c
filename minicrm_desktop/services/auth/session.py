"""Sessions: sign in and remember, restore at the next start, sign out and forget.

The refresh token is the only thing remembered, and only in the SecretStore (keyring or
encrypted file). Restoring trades it for a fresh ID token and verifies that token exactly as
a new sign-in's. These functions block: call them off the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from minicrm_desktop.services.core.secrets import REFRESH_TOKEN, SecretStore, SecretStoreError

from ..access.identity import Identity
from .config import OAuthConfig
from .errors import ProviderUnreachable
from .flow import DEFAULT_TIMEOUT_S, BrowserOpener, open_system_browser, run_browser_flow
from .loopback import Waker
from .tokens import verify_id_token

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ..access.actor import Actor

log = logging.getLogger(__name__)


def sign_in(
    config: OAuthConfig,
    secrets: SecretStore | None,
    *,
    waker: Waker | None = None,
    on_url: Callable[[str], None] | None = None,
    open_browser: BrowserOpener | None = open_system_browser,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Identity:
    """Sign in through the browser; remember the session in `secrets` when possible."""
    result = run_browser_flow(config, waker=waker, on_url=on_url, open_browser=open_browser,
                              timeout_s=timeout_s)
    if secrets is not None and result.refresh_token:
        try:
            secrets.set(REFRESH_TOKEN, result.refresh_token)
        except SecretStoreError as exc:
            # Signed in all the same; the next start asks again.
            log.warning("the session is not remembered: %s", exc)
    return result.identity


def restore_identity(config: OAuthConfig, secrets: SecretStore) -> Identity | None:
    """The identity of the remembered session, or None when there is none (or it was
    revoked or expired at the provider, in which case it is forgotten).

    Raises ProviderUnreachable when the provider cannot be asked, TokenRejected when its
    new ID token fails a check, SecretStoreError when the secrets cannot be read.
    """
    import google.auth.exceptions
    import requests
    from google.auth.transport.requests import Request
    from google.oauth2.credentials import Credentials

    refresh_token = secrets.get(REFRESH_TOKEN)
    if not refresh_token:
        return None
    credentials = Credentials(
        token=None,
        refresh_token=refresh_token,
        token_uri=config.token_uri,
        client_id=config.client_id,
        client_secret=config.client_secret,
    )
    try:
        credentials.refresh(Request())
    except google.auth.exceptions.RefreshError as exc:
        if getattr(exc, "retryable", False):
            raise ProviderUnreachable(f"{config.provider_name} could not renew the session: "
                                      f"{_first_line(exc)}") from None
        log.info("the remembered session was refused (%s); forgetting it", _first_line(exc))
        secrets.delete(REFRESH_TOKEN)
        return None
    except (google.auth.exceptions.TransportError, requests.RequestException) as exc:
        raise ProviderUnreachable(f"{config.provider_name} could not be reached to renew "
                                  f"the session ({type(exc).__name__}).") from None
    id_token = credentials.id_token
    if not id_token:
        secrets.delete(REFRESH_TOKEN)
        return None
    rotated = credentials.refresh_token
    if rotated and rotated != refresh_token:
        secrets.set(REFRESH_TOKEN, rotated)
    return verify_id_token(id_token, config)


def sign_out(config: OAuthConfig | None, secrets: SecretStore) -> str:
    """Forget the session here and revoke it at the provider. Returns what happened, for
    the user; forgetting locally always happens, even when revoking fails."""
    import requests

    refresh_token = secrets.get(REFRESH_TOKEN)
    secrets.delete(REFRESH_TOKEN)
    if not refresh_token:
        return "Signed out (no remembered session)."
    if config is None:
        return "Signed out; no sign-in provider is configured, so the session was not revoked."
    try:
        response = requests.post(
            config.revoke_uri, data={"token": refresh_token},
            headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=15,
        )
    except requests.RequestException as exc:
        return (f"Signed out here, but {config.provider_name} could not be reached to revoke "
                f"the session ({type(exc).__name__}).")
    if response.status_code != 200:
        return (f"Signed out here, but {config.provider_name} did not revoke the session "
                f"(HTTP {response.status_code}).")
    return f"Signed out, and the session was revoked at {config.provider_name}."


def admit_identity(engine: Engine, identity: Identity) -> Actor:
    """Who this identity is in this database (AccessDenied when it may not come in)."""
    from ..access.users import admit

    return admit(engine, identity)


def _first_line(exc: BaseException) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return text.splitlines()[0] if text else type(exc).__name__
