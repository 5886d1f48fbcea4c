"""Customers, their tags and the per-customer order aggregates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import MYSQL_TABLE_OPTIONS, Base, BigId, UTCDateTime, norm_string

EMAIL_LEN = 320
TEXT_LEN = 255
TAGS_NORM_LEN = 2000

customer_tags = Table(
    "customer_tags",
    Base.metadata,
    Column(
        "customer_id",
        BigId,
        ForeignKey("customers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("tag_id", BigId, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    # The primary key serves "tags of a customer"; this one serves "customers with a tag".
    Index("ix_customer_tags_tag_id_customer_id", "tag_id", "customer_id"),
    **MYSQL_TABLE_OPTIONS,
)


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(TEXT_LEN))
    # Unicode-lower-cased name: the tag's identity ("VIP" and "vip" are one tag).
    name_norm: Mapped[str] = mapped_column(norm_string(TEXT_LEN), unique=True)

    __table_args__ = (MYSQL_TABLE_OPTIONS,)


class Customer(Base):
    """A customer with the denormalised aggregates of their orders.

    The aggregate columns live on the customer row itself so that segment counts read one
    table with indexes, never a GROUP BY over the orders; the import services update them
    in the same transaction as the orders they summarise.
    """

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LEN))
    email_norm: Mapped[str] = mapped_column(norm_string(EMAIL_LEN), unique=True)
    name: Mapped[str | None] = mapped_column(String(TEXT_LEN))
    name_norm: Mapped[str | None] = mapped_column(norm_string(TEXT_LEN))
    phone: Mapped[str | None] = mapped_column(String(64))
    phone_norm: Mapped[str | None] = mapped_column(norm_string(64))
    city: Mapped[str | None] = mapped_column(String(TEXT_LEN))
    city_norm: Mapped[str | None] = mapped_column(norm_string(TEXT_LEN), index=True)
    # Indexed per engine (models/engine_only.py): ix_customers_signup_date on MySQL/MariaDB,
    # the integer signup_us's ix_customers_signup_us on SQLite (migration 0024).
    signup_date: Mapped[datetime] = mapped_column(UTCDateTime())
    visits: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_visit: Mapped[datetime | None] = mapped_column(UTCDateTime())
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("1"))

    # Aggregates over every order of the customer (money in minor units: paise).
    # Indexed through an index leading with it, per engine (models/engine_only.py):
    # ix_customers_spend_activity on MySQL/MariaDB, ix_customers_spend_consent on SQLite.
    total_spend_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    order_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    first_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    # The customer's tag names, normalized, sorted, between bars: "|newsletter|vip|" ("" for
    # none). Kept with customer_tags by every write, so a tag test on a million customers
    # reads one narrow index instead of probing customer_tags once per customer.
    tags_norm: Mapped[str] = mapped_column(
        norm_string(TAGS_NORM_LEN), default="", server_default=text("''")
    )

    tags: Mapped[list[Tag]] = relationship(secondary=customer_tags, lazy="selectin")

    __table_args__ = (
        Index("ix_customers_order_count_total_spend_minor", "order_count", "total_spend_minor"),
        Index("ix_customers_first_order_at", "first_order_at"),
        Index("ix_customers_last_visit", "last_visit"),
        Index("ix_customers_visits", "visits"),
        Index("ix_customers_tags_norm", "tags_norm", mysql_length=255),
        MYSQL_TABLE_OPTIONS,
    )

    @property
    def avg_order_value_minor(self) -> float | None:
        """Average order value in minor units; None for a customer with no orders."""
        if self.order_count == 0:
            return None
        return self.total_spend_minor / self.order_count
