"""What a database trusts, recorded in the database itself: the identity providers whose
tokens it accepts, and facts fixed when it was created (whether its first sign-in may
found it as admin)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import String, Table
from sqlalchemy.orm import Mapped, mapped_column

from .base import MYSQL_TABLE_OPTIONS, Base, BigId, UTCDateTime, norm_string
from .user import EMAIL_LEN, ISSUER_LEN

SETTING_NAME_LEN = 64
SETTING_VALUE_LEN = 255


class TrustedIssuer(Base):
    """An identity provider (its `iss`) whose ID tokens may sign in to this database."""

    __tablename__ = "trusted_issuers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(norm_string(ISSUER_LEN), unique=True)
    added_by: Mapped[str | None] = mapped_column(String(EMAIL_LEN))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (MYSQL_TABLE_OPTIONS,)


class DatabaseSetting(Base):
    """One named fact about this database (e.g. founding = open | closed)."""

    __tablename__ = "database_settings"

    name: Mapped[str] = mapped_column(String(SETTING_NAME_LEN), primary_key=True)
    value: Mapped[str] = mapped_column(String(SETTING_VALUE_LEN))

    __table_args__ = (MYSQL_TABLE_OPTIONS,)


trusted_issuers_table = cast(Table, TrustedIssuer.__table__)
database_settings_table = cast(Table, DatabaseSetting.__table__)
