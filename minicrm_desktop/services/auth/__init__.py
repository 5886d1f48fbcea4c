"""Signing in: OAuth 2.0 for installed apps (loopback + PKCE), ID-token checks, stored sessions.

The face is lazy (core/faces.py): the sign-in machinery loads when first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minicrm_desktop.services.core.faces import lazy_face

if TYPE_CHECKING:
    from .access_mode import LOCAL_MODE_TEXT, requires_sign_in
    from .config import (
        CLIENT_SECRETS_ENV,
        GOOGLE_CLIENT_SECRETS,
        OAuthConfig,
        load_client_secrets,
        resolve_oauth_config,
    )
    from .dev_trust import trust_dev_idp
    from .errors import SignInCancelled
    from .flow import DEFAULT_TIMEOUT_S
    from .loopback import Waker
    from .session import admit_identity, restore_identity, sign_in, sign_out

__getattr__ = lazy_face(__name__, {
    "access_mode": ("LOCAL_MODE_TEXT", "requires_sign_in"),
    "config": (
        "CLIENT_SECRETS_ENV",
        "GOOGLE_CLIENT_SECRETS",
        "OAuthConfig",
        "load_client_secrets",
        "resolve_oauth_config",
    ),
    "dev_trust": ("trust_dev_idp",),
    "errors": ("SignInCancelled",),
    "flow": ("DEFAULT_TIMEOUT_S",),
    "loopback": ("Waker",),
    "session": ("admit_identity", "restore_identity", "sign_in", "sign_out"),
})

__all__ = [
    "CLIENT_SECRETS_ENV",
    "DEFAULT_TIMEOUT_S",
    "GOOGLE_CLIENT_SECRETS",
    "LOCAL_MODE_TEXT",
    "OAuthConfig",
    "SignInCancelled",
    "Waker",
    "admit_identity",
    "load_client_secrets",
    "requires_sign_in",
    "resolve_oauth_config",
    "restore_identity",
    "sign_in",
    "sign_out",
    "trust_dev_idp",
]
