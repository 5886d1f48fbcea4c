"""The audit log: who did what, when. Append-only (database triggers refuse UPDATE and
DELETE, see migration 0007; on a shared server the accounts lack those privileges too)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import MYSQL_TABLE_OPTIONS, Base, BigId, UTCDateTime
from .user import EMAIL_LEN

ACTION_LEN = 64


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # No foreign key: the log outlives anything it mentions, and a refused stranger has
    # no user row at all.
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    user_email: Mapped[str] = mapped_column(String(EMAIL_LEN))
    action: Mapped[str] = mapped_column(String(ACTION_LEN))
    detail: Mapped[str] = mapped_column(Text, default="")  # JSON object
    # The database account that wrote the entry, filled in by the server (migration 0011).
    db_account: Mapped[str | None] = mapped_column(String(400))

    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_user_email", "user_email", "id"),
        Index("ix_audit_log_action", "action", "id"),
        MYSQL_TABLE_OPTIONS,
    )


audit_table = cast(Table, AuditEntry.__table__)
