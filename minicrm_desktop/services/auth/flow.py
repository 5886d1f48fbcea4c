"""The OAuth 2.0 installed-app flow (RFC 8252) with google-auth-oauthlib.

The authorization request goes to the system browser with PKCE (S256) and a random state;
the answer comes back to a loopback server on 127.0.0.1 at a random port; the code is
exchanged for tokens and the ID token verified. Runs on a worker thread: blocking, but
cancellable through its `Waker` and bounded by a timeout. The authorization URL is handed
to `on_url` before the browser is asked to open it, because opening one can fail silently.
"""

from __future__ import annotations

import logging
import os
import threading
import webbrowser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..access.identity import Identity
from .config import SCOPES, OAuthConfig, is_loopback
from .errors import (
    ProviderUnreachable,
    SignInCancelled,
    SignInDenied,
    SignInError,
    SignInTimedOut,
)
from .loopback import LoopbackReceiver, Waker, same_state
from .tokens import verify_id_token

log = logging.getLogger(__name__)
# requests-oauthlib and oauthlib log whole token responses (refresh tokens included) at
# DEBUG; keep them out of the log even when --debug turns everything else on.
for _name in ("requests_oauthlib", "oauthlib"):
    logging.getLogger(_name).setLevel(logging.INFO)

DEFAULT_TIMEOUT_S = 300.0

#: Opens a URL in the user's browser; its return value is ignored (it cannot be trusted).
BrowserOpener = Callable[[str], object]


@dataclass(frozen=True)
class SignInResult:
    identity: Identity
    refresh_token: str | None  # absent when the provider gave none


def open_system_browser(url: str) -> object:
    return webbrowser.open(url, new=1, autoraise=True)


def new_flow(config: OAuthConfig) -> Any:
    """google-auth-oauthlib's flow for this client, with PKCE on."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    return InstalledAppFlow.from_client_config(
        config.client_config(), scopes=list(SCOPES), autogenerate_code_verifier=True
    )


def run_browser_flow(
    config: OAuthConfig,
    *,
    waker: Waker | None = None,
    on_url: Callable[[str], None] | None = None,
    open_browser: BrowserOpener | None = open_system_browser,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> SignInResult:
    """Sign in through the browser and return the verified identity (worker thread)."""
    waker = waker or Waker()
    flow = new_flow(config)
    receiver = LoopbackReceiver(waker)
    try:
        flow.redirect_uri = receiver.redirect_uri
        with _loopback_http(config):
            url, state = flow.authorization_url(prompt="select_account")
        receiver.expect(state)
        if "code_challenge=" not in url or "code_challenge_method=S256" not in url:
            raise SignInError("The sign-in request lacks its PKCE challenge; refusing to go on.")
        if on_url is not None:
            on_url(url)
        if open_browser is not None:
            try:
                open_browser(url)
            except Exception as exc:  # the URL is on screen to copy; carry on waiting
                log.warning("could not open a browser: %s", exc)
        answered = waker.wait(timeout_s)
    finally:
        receiver.close()
    if waker.cancelled:
        raise SignInCancelled("Sign-in cancelled.")
    callback = receiver.callback
    if not answered or callback is None:
        minutes = timeout_s / 60
        stray = (f" ({receiver.ignored} answer{'s' if receiver.ignored > 1 else ''} that did "
                 f"not belong to this sign-in {'were' if receiver.ignored > 1 else 'was'} "
                 f"ignored)" if receiver.ignored else "")
        raise SignInTimedOut(
            f"No answer came back from the browser within "
            f"{f'{minutes:g} minutes' if minutes >= 1 else f'{timeout_s:g} seconds'}{stray}. "
            f"Sign in again, and finish in the browser window that opens."
        )
    if not same_state(callback.get("state"), state):  # the receiver checked; belt and braces
        raise SignInError(
            "The browser's answer does not belong to this sign-in (its state does not "
            "match), so MiniCRM ignored it. Please sign in again."
        )
    error = callback.get("error")
    if error == "access_denied":
        raise SignInDenied(f"Sign-in was declined in the browser: {config.provider_name} "
                           f"was not given access.")
    if error:
        detail = callback.get("error_description")
        raise SignInError(f"{config.provider_name} refused the sign-in: {error}"
                          f"{f' ({detail})' if detail else ''}.")
    code = callback.get("code")
    if not code:
        raise SignInError("The browser's answer carries no authorization code.")
    tokens = _exchange(flow, code, config)
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise SignInError(f"{config.provider_name} sent no ID token (is the \"openid\" "
                          f"scope allowed for this OAuth client?).")
    identity = verify_id_token(id_token, config)
    refresh = tokens.get("refresh_token")
    return SignInResult(identity, refresh if isinstance(refresh, str) and refresh else None)


def _exchange(flow: Any, code: str, config: OAuthConfig) -> dict[str, Any]:
    """Swap the code (and the PKCE verifier) for tokens at the token endpoint."""
    import requests
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error  # type: ignore[import-untyped]

    try:
        with _loopback_http(config):
            return dict(flow.fetch_token(code=code))
    except OAuth2Error as exc:
        reason = exc.description or exc.error
        raise SignInError(f"{config.provider_name} did not accept the sign-in: "
                          f"{reason}.") from None
    except requests.RequestException as exc:
        raise ProviderUnreachable(f"{config.provider_name} could not be reached "
                                  f"({config.token_uri}): {type(exc).__name__}.") from None


_INSECURE_TRANSPORT = "OAUTHLIB_INSECURE_TRANSPORT"
_insecure_transport_lock = threading.Lock()


@contextmanager
def _loopback_http(config: OAuthConfig) -> Iterator[None]:
    """oauthlib insists on https; the dev IdP serves plain http on this computer only
    (config.py refuses any other host), which never leaves the machine. oauthlib reads its
    switch from the environment at each check, so it is on only around the two calls that
    check (the authorization URL, the token request): not for the rest of the process, nor
    for the processes it starts."""
    parts = urlsplit(config.token_uri)
    if parts.scheme != "http" or not is_loopback(parts.hostname or ""):
        yield
        return
    with _insecure_transport_lock:  # one sign-in's restore must not cut short another's
        previous = os.environ.get(_INSECURE_TRANSPORT)
        os.environ[_INSECURE_TRANSPORT] = "1"
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(_INSECURE_TRANSPORT, None)
            else:
                os.environ[_INSECURE_TRANSPORT] = previous
