"""Orders: one row per external order id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import MYSQL_TABLE_OPTIONS, Base, BigId, UTCDateTime


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(128), unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    order_date: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        # Covers the aggregate recomputation (sum, count, min, max per customer)
        # without touching the table rows.
        Index("ix_orders_customer_id_order_date", "customer_id", "order_date", "amount_minor"),
        MYSQL_TABLE_OPTIONS,
    )
