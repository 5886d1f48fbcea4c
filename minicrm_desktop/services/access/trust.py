"""What this database trusts, as recorded in it: which identity providers may sign people
in, and whether its first sign-in may still found it as admin.

The environment can choose which provider MiniCRM talks to; only the database decides whom
it lets in. Every database trusts Google. A development database is made to trust the
development identity provider by an explicit step (`minicrm init-db --trust-dev-idp URL`)
while nobody has an account in it yet; a packaged release never trusts anything but Google,
whatever a database says.

Founding: a database created empty records `founding = open`, and its first sign-in becomes
its admin (which closes it). A database that already held data when it was upgraded to
revision 0010 records `closed`: nobody founds it by signing in first; its operator names the
first admin with `minicrm users add EMAIL --role admin --operator`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, insert, select, update

from ...models.base import utcnow
from ...models.tables import database_settings_table, trusted_issuers_table
from ...packaged import is_packaged
from .identity import GOOGLE_ISSUER, GOOGLE_ISSUERS

FOUNDING = "founding"
OPEN, CLOSED = "open", "closed"

issuers = trusted_issuers_table
settings = database_settings_table


def canonical_issuer(issuer: str) -> str:
    """One spelling per provider: Google signs as either of two; URLs lose a trailing /."""
    cleaned = issuer.strip().rstrip("/")
    return GOOGLE_ISSUER if cleaned in GOOGLE_ISSUERS else cleaned


def issuer_refusal(conn: Connection, issuer: str) -> str | None:
    """Why a token from `issuer` may not sign in here, or None when it may."""
    issuer = canonical_issuer(issuer)
    who = issuer or "an unnamed provider"
    if is_packaged() and issuer != GOOGLE_ISSUER:
        return f"This MiniCRM release accepts Google accounts only, not accounts from {who}."
    found = conn.execute(select(issuers.c.id).where(issuers.c.issuer == issuer)).first()
    if found is None:
        return (f"This MiniCRM database does not trust accounts from {who}: sign in with a "
                "Google account.")
    return None


def provider_refusal(engine: Engine, provider_issuers: Sequence[str]) -> str | None:
    """Why no account of the provider signing as `provider_issuers` could get in here (so
    there is no point opening the browser), or None."""
    with engine.connect() as conn:
        reasons = [issuer_refusal(conn, issuer) for issuer in provider_issuers]
    return None if not reasons or None in reasons else reasons[0]


def trusted_issuers(engine: Engine | Connection) -> list[str]:
    stmt = select(issuers.c.issuer).order_by(issuers.c.id)
    if isinstance(engine, Connection):
        return list(engine.execute(stmt).scalars())
    with engine.connect() as conn:
        return list(conn.execute(stmt).scalars())


def founding_open(conn: Connection) -> bool:
    value = conn.execute(select(settings.c.value).where(settings.c.name == FOUNDING)).scalar()
    return value == OPEN


def close_founding(conn: Connection) -> None:
    conn.execute(update(settings).where(settings.c.name == FOUNDING).values(value=CLOSED))


def lock_founding(conn: Connection) -> None:
    """Serialize the operator's "first admin" step with others like it (MySQL row lock;
    SQLite has one writer anyway)."""
    conn.execute(select(settings.c.value).where(settings.c.name == FOUNDING).with_for_update())


def record_new_database(conn: Connection) -> None:
    """What migration 0010 records for a database created empty (the test fixtures use it
    to put an emptied database back to new)."""
    conn.execute(insert(issuers).values(issuer=GOOGLE_ISSUER, added_by=None,
                                        created_at=utcnow()))
    conn.execute(insert(settings).values(name=FOUNDING, value=OPEN))
