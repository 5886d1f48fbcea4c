"""Making a development database trust the development identity provider: an auth step
(the dev IdP lives here) that writes access's list of trusted providers."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select

from ...errors import ConfigError
from ...models.base import utcnow
from ...models.tables import trusted_issuers_table, users_table
from ...packaged import is_packaged
from ..access.trust import canonical_issuer
from .config import dev_idp_config

issuers = trusted_issuers_table


def trust_dev_idp(engine: Engine, base_url: str) -> str:
    """Make a development database trust the development identity provider at `base_url`
    (http://127.0.0.1:PORT). Only from source, and only while nobody has an account here:
    a database in use never starts trusting a provider anyone can run."""
    if is_packaged():
        raise ConfigError("This MiniCRM release trusts Google accounts only; the development "
                          "identity provider is for development runs from source.")
    issuer = canonical_issuer(dev_idp_config(base_url).issuers[0])
    with engine.begin() as conn:
        if conn.execute(select(issuers.c.id).where(issuers.c.issuer == issuer)).first():
            return issuer
        if conn.execute(select(users_table.c.id).limit(1)).first() is not None:
            raise ConfigError(
                "This database already has accounts, so it cannot start trusting the "
                "development identity provider. Create a new database for development "
                "(e.g. --db sqlite:///dev.db) and run this on it before anyone signs in."
            )
        conn.execute(insert(issuers).values(issuer=issuer, added_by="init-db --trust-dev-idp",
                                            created_at=utcnow()))
    return issuer
