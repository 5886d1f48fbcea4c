"""Who a verified ID token says the user is: plain data, safe to pass between threads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    """A person proven by an identity provider (Google, or the dev IdP in test builds)."""

    subject: str  # the provider's stable user id ("sub")
    email: str  # lower-cased; only verified emails become an Identity
    name: str
    issuer: str
