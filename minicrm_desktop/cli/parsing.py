"""Argument types shared by commands."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime


def iso_datetime(text: str) -> datetime:
    """An ISO 8601 date or date-time; no offset means UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 date or date-time like 2026-05-01T10:00:00Z, got {text!r}"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
