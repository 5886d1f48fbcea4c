"""People who may open MiniCRM, and the email domains whose members may sign in."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Boolean, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import MYSQL_TABLE_OPTIONS, Base, BigId, UTCDateTime, norm_string

EMAIL_LEN = 320
USER_NAME_LEN = 200
DOMAIN_LEN = 253
ROLE_LEN = 16
ISSUER_LEN = 255
SUBJECT_LEN = 255
DB_ACCOUNT_LEN = 80


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Lower-cased at write time: one account per address whatever its case.
    email: Mapped[str] = mapped_column(norm_string(EMAIL_LEN), unique=True)
    name: Mapped[str] = mapped_column(String(USER_NAME_LEN), default="")
    role: Mapped[str] = mapped_column(String(ROLE_LEN))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # 1 for the account that founded the database, NULL for everyone else. Unique, so two
    # first sign-ins racing on an empty table cannot both become admin.
    founder: Mapped[int | None] = mapped_column(Integer, unique=True)
    # Who the account is: the identity provider's issuer and its stable user id ("sub"),
    # compared exactly. Both NULL for an invitation nobody has claimed yet; the email is a
    # label that follows the provider's. (A subject without an issuer is an account from
    # before issuers were recorded: only that subject may claim it.)
    issuer: Mapped[str | None] = mapped_column(norm_string(ISSUER_LEN))
    subject: Mapped[str | None] = mapped_column(norm_string(SUBJECT_LEN))
    added_by: Mapped[str | None] = mapped_column(String(EMAIL_LEN))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The MySQL/MariaDB account this person connects with; only the database's owner
    # account may write it (services/access/db_roles.py). NULL on SQLite.
    db_account: Mapped[str | None] = mapped_column(String(DB_ACCOUNT_LEN), unique=True)

    __table_args__ = (UniqueConstraint("issuer", "subject"), MYSQL_TABLE_OPTIONS)


class AllowedDomain(Base):
    """Anyone with a verified address at `domain` may sign in, with `role`."""

    __tablename__ = "allowed_domains"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    domain: Mapped[str] = mapped_column(norm_string(DOMAIN_LEN), unique=True)
    role: Mapped[str] = mapped_column(String(ROLE_LEN))
    added_by: Mapped[str | None] = mapped_column(String(EMAIL_LEN))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (MYSQL_TABLE_OPTIONS,)


users_table = cast(Table, User.__table__)
allowed_domains_table = cast(Table, AllowedDomain.__table__)
