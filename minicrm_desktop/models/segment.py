"""Saved segments: a named rule tree (its JSON exactly as validated), who made it and when."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Index, String, Table, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from .base import MYSQL_TABLE_OPTIONS, Base, BigId, UTCDateTime, norm_string
from .customer import Customer

SEGMENT_NAME_LEN = 200
DESCRIPTION_LEN = 2000

# A tree at the contract's limits (1000 conditions) is larger than MySQL's 64 KB TEXT.
RuleText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


class Segment(Base):
    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(SEGMENT_NAME_LEN))
    # Lower-cased name: names are unique whatever their case ("VIP" and "vip" clash).
    name_norm: Mapped[str] = mapped_column(norm_string(SEGMENT_NAME_LEN), unique=True)
    description: Mapped[str] = mapped_column(String(DESCRIPTION_LEN), default="")
    rule_json: Mapped[str] = mapped_column(RuleText)
    author: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (MYSQL_TABLE_OPTIONS,)


segments_table = cast(Table, Segment.__table__)


# Indexes on customers that segment counts need at a million rows (migration 0002):
# - name/phone `contains` scans the narrow index holding the column, not the table.
# The spend index is per engine (models/engine_only.py): ix_customers_spend_activity (spend,
# last order, count, consent) on MySQL/MariaDB, ix_customers_spend_consent (spend, consent,
# count, last_order_us) on SQLite since migration 0026.
_customers = cast(Table, Customer.__table__)
SEGMENT_INDEXES = (
    Index("ix_customers_name_norm", _customers.c.name_norm),
    Index("ix_customers_phone_norm", _customers.c.phone_norm),
)
