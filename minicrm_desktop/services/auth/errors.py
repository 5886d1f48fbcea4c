"""Why a sign-in did not happen, in words the user can act on."""

from __future__ import annotations

from ...errors import MiniCRMError


class SignInError(MiniCRMError):
    """Signing in failed; the message says why."""

    exit_code = 3


class SignInCancelled(SignInError):
    """The user cancelled the sign-in in MiniCRM."""


class SignInTimedOut(SignInError):
    """The browser never came back to MiniCRM in time."""


class SignInDenied(SignInError):
    """The user (or the provider) refused consent in the browser."""


class TokenRejected(SignInError):
    """The provider's ID token failed a check: signature, audience, issuer, expiry, email."""


class ProviderUnreachable(SignInError):
    """The identity provider could not be reached."""
