"""Who may open this database without a browser sign-in.

The embedded SQLite database with no OAuth client configured is a single-user set-up: the
user is the local admin. Configure an OAuth client and sign-in is required; a database shared
over MySQL always requires it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import ConfigError
from .config import CLIENT_SECRETS_ENV, OAuthConfig

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

LOCAL_MODE_TEXT = "Local mode — single user, no sign-in"


def requires_sign_in(url: URL, config: OAuthConfig | None) -> bool:
    """False only for the local single-user mode; ConfigError for MySQL with no client."""
    if config is not None:
        return True
    # Here, not with the module: the window shows LOCAL_MODE_TEXT before SQLAlchemy loads.
    from minicrm_desktop.services.core.database import is_sqlite

    if is_sqlite(url):
        return False
    raise ConfigError(
        "A shared MySQL database requires everyone to sign in, and no Google OAuth client is "
        f"configured: choose its client-secrets JSON in Settings (or set {CLIENT_SECRETS_ENV})."
    )

