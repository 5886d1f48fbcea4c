"""Who a verified ID token says the user is: plain data, safe to pass between threads.

It lives with access (not auth) because access decides whom an identity admits; auth only
produces identities."""

from __future__ import annotations

from dataclasses import dataclass

GOOGLE_ISSUER = "https://accounts.google.com"  # the spelling MiniCRM records
GOOGLE_ISSUERS = ("accounts.google.com", GOOGLE_ISSUER)  # both appear in Google's tokens


@dataclass(frozen=True)
class Identity:
    """A person proven by an identity provider (Google, or the dev IdP in test builds)."""

    subject: str  # the provider's stable user id ("sub")
    email: str  # lower-cased; only verified emails become an Identity
    name: str
    issuer: str
