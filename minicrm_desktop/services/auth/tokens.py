"""Checking an ID token before believing a word of it.

The signature is verified (RS256 only) against the provider's published keys, in either of
the formats providers serve them: Google's v1 {key id: x509 certificate} or a JWK Set
(Google's v3, the dev IdP's /jwks). Then the audience (our client id), the times — `exp`,
and `iat` and `nbf` not in the future — each with CLOCK_SKEW_S of tolerance, the issuer and
`email_verified`. Each failure says which check failed. PyJWT (with `cryptography`) does the
JWT work.
"""

from __future__ import annotations

import logging
from typing import Any

from ..access.identity import GOOGLE_ISSUER, GOOGLE_ISSUERS, Identity
from .config import OAuthConfig
from .errors import ProviderUnreachable, TokenRejected

log = logging.getLogger(__name__)

#: Tolerated difference between this computer's clock and the provider's.
CLOCK_SKEW_S = 60
#: The only signing algorithm accepted (Google's and the dev IdP's): a token cannot choose
#: a weaker one, nor "none".
ALGORITHMS = ["RS256"]
_REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat"]
_REFUSED = "The sign-in was refused:"


def verify_id_token(token: str, config: OAuthConfig) -> Identity:
    """The identity an ID token proves, or TokenRejected saying which check failed."""
    return _identity(verified_claims(token, config), config)


def verified_claims(token: str, config: OAuthConfig) -> dict[str, Any]:
    """The token's claims once its signature, audience and times are checked."""
    import jwt

    try:
        key_id = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        raise TokenRejected(f"{_REFUSED} what {config.provider_name} sent is not an ID "
                            "token (a JWT).") from None
    key = _public_key(fetch_keys(config), key_id, config)
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=ALGORITHMS, audience=config.client_id,
            leeway=CLOCK_SKEW_S,
            options={"require": _REQUIRED_CLAIMS, "verify_iss": False},  # checked below
        )
    except jwt.PyJWTError as exc:
        raise TokenRejected(_explain(exc, config)) from None
    return claims


def fetch_keys(config: OAuthConfig) -> dict[str, Any]:
    """The provider's published signing keys, as its certs endpoint serves them."""
    import requests

    try:
        response = requests.get(config.certs_uri, timeout=15)
        response.raise_for_status()
        keys = response.json()
    except requests.RequestException as exc:
        raise ProviderUnreachable(
            f"The signing keys of {config.provider_name} could not be fetched "
            f"({config.certs_uri}): {type(exc).__name__}."
        ) from None
    except ValueError:
        raise ProviderUnreachable(f"{config.provider_name} published its signing keys in a "
                                  f"form MiniCRM cannot read ({config.certs_uri}).") from None
    if not isinstance(keys, dict):
        raise ProviderUnreachable(f"{config.provider_name} published no signing keys at "
                                  f"{config.certs_uri}.")
    return keys


def _public_key(keys: dict[str, Any], key_id: object, config: OAuthConfig) -> Any:
    """The public key named `key_id`, from a JWK Set or a {key id: certificate} map."""
    import jwt
    from cryptography import x509

    unknown = TokenRejected(f"{_REFUSED} the ID token's signature does not match the keys "
                            f"published by {config.provider_name} (unknown key {key_id!r}).")
    if not isinstance(key_id, str) or not key_id:
        raise unknown
    if "keys" in keys:
        try:
            jwks = jwt.PyJWKSet.from_dict(keys)
        except jwt.PyJWTError:
            raise ProviderUnreachable(f"{config.provider_name} published no usable signing "
                                      f"keys at {config.certs_uri}.") from None
        for jwk in jwks.keys:
            if jwk.key_id == key_id and jwk.public_key_use in ("sig", None):
                return jwk.key
        raise unknown
    pem = keys.get(key_id)
    if not isinstance(pem, str):
        raise unknown
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii")).public_key()
    except ValueError:
        raise ProviderUnreachable(f"{config.provider_name} published a certificate MiniCRM "
                                  f"cannot read ({config.certs_uri}).") from None


def _explain(exc: Exception, config: OAuthConfig) -> str:
    """PyJWT's refusals, as messages that say which check failed."""
    import jwt

    who = config.provider_name
    if isinstance(exc, jwt.InvalidSignatureError):
        return (f"{_REFUSED} the ID token's signature does not match the keys published by "
                f"{who}.")
    if isinstance(exc, jwt.ExpiredSignatureError):
        return (f"{_REFUSED} the ID token has expired. Check that this computer's clock is "
                "right, then sign in again.")
    if isinstance(exc, jwt.ImmatureSignatureError):
        claim = "nbf" if "nbf" in str(exc) else "iat"
        return (f"{_REFUSED} the ID token is not valid yet (its \"{claim}\" lies in the "
                "future). Check that this computer's clock is right.")
    if isinstance(exc, jwt.InvalidAudienceError):
        return (f"{_REFUSED} the ID token was issued to another application (wrong "
                "audience), not to MiniCRM's OAuth client.")
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"{_REFUSED} the ID token lacks its \"{exc.claim}\" claim."
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return f"{_REFUSED} the ID token is not signed with {', '.join(ALGORITHMS)}."
    return f"{_REFUSED} the ID token is invalid ({exc})."


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
    if issuer in GOOGLE_ISSUERS:
        issuer = GOOGLE_ISSUER  # one spelling: accounts are keyed on (issuer, subject)
    log.info("verified ID token for %s from %s", email, issuer)
    return Identity(subject=subject, email=email, name=name, issuer=issuer)
