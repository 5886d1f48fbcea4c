"""Declarative base, naming convention and the column types every model shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, MetaData, String, TypeDecorator
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic migrations name the same objects on every engine.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Full Unicode on MySQL/MariaDB whatever the server's default character set is.
MYSQL_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


# SQLite only auto-increments INTEGER PRIMARY KEY; MySQL wants BIGINT for big tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class NormString(TypeDecorator[str]):
    """Unicode-lower-cased text, compared byte for byte on every engine.

    MySQL's default collations fold case *and accents* ("e" = "é"), and even utf8mb4_bin
    pads trailing spaces ("e" = "e "), so on MySQL/MariaDB these columns use the binary
    NO PAD collation, which compares exactly as SQLite does.
    """

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        length: int | None = getattr(self.impl_instance, "length", None)
        if dialect.name in ("mysql", "mariadb"):
            nopad = (
                "utf8mb4_nopad_bin"
                if getattr(dialect, "is_mariadb", False)
                else ("utf8mb4_0900_bin")
            )
            return dialect.type_descriptor(
                mysql.VARCHAR(length, charset="utf8mb4", collation=nopad)
            )
        return dialect.type_descriptor(String(length))


def norm_string(length: int) -> NormString:
    return NormString(length)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC (microseconds kept), returned as aware UTC.

    Both engines then compare instants directly, with no session time zone involved.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
