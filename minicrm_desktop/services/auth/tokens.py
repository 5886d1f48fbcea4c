"""Checking an ID token before believing a word of it.

The signature is verified against the provider's published keys (Google's certificates, or
the dev IdP's), then expiry, audience (our client id), issuer and `email_verified`. Each
failure says which check failed.
"""

from __future__ import annotations

import logging
from typing import Any

from .config import OAuthConfig
from .errors import ProviderUnreachable, TokenRejected
from .identity import Identity

log = logging.getLogger(__name__)

#: Tolerated difference between this computer's clock and the provider's.
CLOCK_SKEW_S = 60


def verify_id_token(token: str, config: OAuthConfig) -> Identity:
    """The identity an ID token proves, or TokenRejected saying which check failed."""
    import google.auth.exceptions
    from google.auth.transport.requests import Request
    from google.oauth2 import id_token

    try:
        claims = id_token.verify_token(
            token, Request(), audience=config.client_id, certs_url=config.certs_uri,
            clock_skew_in_seconds=CLOCK_SKEW_S,
        )
    except google.auth.exceptions.TransportError as exc:
        raise ProviderUnreachable(
            f"The signing keys of {config.provider_name} could not be fetched "
            f"({config.certs_uri}): {exc}"
        ) from None
    except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
        raise TokenRejected(_explain(str(exc), config)) from None
    return _identity(claims, config)


def _explain(reason: str, config: OAuthConfig) -> str:
    """google-auth's reasons, as messages that say which check failed."""
    who = config.provider_name
    lowered = reason.lower()
    if "signature" in lowered or "certificate for key id" in lowered:
        return (f"The sign-in was refused: the ID token's signature does not match the keys "
                f"published by {who}.")
    if "expired" in lowered:
        return ("The sign-in was refused: the ID token has expired. Check that this "
                "computer's clock is right, then sign in again.")
    if "too early" in lowered:
        return ("The sign-in was refused: the ID token is not valid yet. Check that this "
                "computer's clock is right.")
    if "audience" in lowered:
        return ("The sign-in was refused: the ID token was issued to another application "
                "(wrong audience), not to MiniCRM's OAuth client.")
    return f"The sign-in was refused: the ID token is invalid ({reason})."


def _identity(claims: Any, config: OAuthConfig) -> Identity:
    issuer = str(claims.get("iss", "")).rstrip("/")
    if issuer not in {i.rstrip("/") for i in config.issuers}:
        raise TokenRejected(
            f"The sign-in was refused: the ID token was issued by {issuer or 'nobody'}, "
            f"not by {config.provider_name} (wrong issuer)."
        )
    email = str(claims.get("email") or "").strip().lower()
    if not email:
        raise TokenRejected("The sign-in was refused: the ID token carries no email address "
                            "(the \"email\" scope was not granted).")
    verified = claims.get("email_verified")
    if verified is not True and str(verified).lower() != "true":
        raise TokenRejected(
            f"The sign-in was refused: {email} is not a verified email address at "
            f"{config.provider_name}. Verify it there, then sign in again."
        )
    subject = str(claims.get("sub") or "")
    if not subject:
        raise TokenRejected("The sign-in was refused: the ID token names no user (no \"sub\").")
    name = str(claims.get("name") or "").strip() or email
    log.info("verified ID token for %s from %s", email, issuer)
    return Identity(subject=subject, email=email, name=name, issuer=issuer)
