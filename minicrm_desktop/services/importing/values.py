"""Parsers for CSV cell values. Each raises ValueError with a reason fit for a report."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ...models.money import parse_amount

__all__ = [
    "parse_amount",
    "parse_amount_cell",
    "parse_bool",
    "parse_datetime",
    "parse_email",
    "parse_nonneg_int",
    "parse_timestamp",
    "parse_tags",
]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def parse_email(text: str) -> str:
    value = text.strip()
    if not value:
        raise ValueError("is required")
    if len(value) > 320 or not _EMAIL.fullmatch(value):
        raise ValueError(f"{_clip(value)!r} does not look like an email address")
    return value


def parse_datetime(text: str) -> datetime:
    """ISO 8601 date or date-time; no offset means UTC, a plain date means 00:00 UTC."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"expected an ISO 8601 date like 2026-05-01 or 2026-05-01T10:00:00Z, "
            f"got {_clip(value)!r}"
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    if parsed.tzinfo is UTC:
        return parsed
    return parsed.astimezone(UTC)


def parse_timestamp(text: str) -> str:
    """`parse_datetime`, in the storage form bulk writers hand to the driver."""
    value = parse_datetime(text)
    # Aware UTC prints "+00:00" after the 26 characters of the naive form.
    return value.isoformat(" ", "microseconds")[:26]


def parse_nonneg_int(text: str) -> int:
    value = text.strip()
    if not value:
        return 0
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"expected a whole number of 0 or more, got {_clip(value)!r}")
    return int(value)


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if not value or value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected true/false, yes/no or 1/0, got {_clip(text)!r}")


def parse_tags(text: str) -> list[str]:
    """`vip|newsletter` → labels, blank ones dropped, duplicates (any case) merged."""
    seen: dict[str, str] = {}
    for label in text.split("|"):
        label = label.strip()
        if label and label.lower() not in seen:
            if len(label) > 255:
                raise ValueError(f"tag {_clip(label)!r} is longer than 255 characters")
            seen[label.lower()] = label
    return list(seen.values())


def parse_amount_cell(text: str) -> int:
    return parse_amount(text.strip())


def _clip(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[:limit] + "…"
