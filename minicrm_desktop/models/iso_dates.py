"""ISO 8601 dates and date-times in the extended forms the contracts accept, and no others.

`2026-05-01`, `2026-05-01T10:00`, `2026-05-01T10:00:00.5+05:30`, `2026-05-01 10:00:00Z`
(a space may stand for `T`). Basic forms (`20260501`), week and ordinal dates, and digits
of other scripts are refused: Python's `fromisoformat` accepts all of those, so the shape is
checked here first. Fractions of a second are kept to the microsecond; the import drops
them, and rule comparisons work at whole seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_ISO = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
EXAMPLES = "2026-05-01 or 2026-05-01T10:00:00Z"


@dataclass(frozen=True)
class IsoTime:
    """A parsed value: the UTC instant (00:00 UTC for a plain date) and its kind."""

    utc: datetime
    date_only: bool


class IsoError(ValueError):
    """The text is not one of the accepted forms, or names no real time."""


class IsoRangeError(IsoError):
    """A real date whose conversion to UTC leaves the calendar Python can hold."""


def read_iso(text: str) -> datetime:
    """`text` (already trimmed) as written: naive when it has no offset."""
    if _ISO.fullmatch(text) is None:
        raise IsoError(f"expected an ISO 8601 date or date-time like {EXAMPLES}")
    try:
        return datetime.fromisoformat(text)  # the shape is checked: C speed for the rest
    except ValueError as exc:  # no such day, hour 24, second 60, offset of 24 h or more
        message = str(exc)
        if message.startswith("Invalid isoformat"):
            message = "no such date or time"
        elif message.startswith("offset"):
            message = "a UTC offset must be less than 24 hours"
        raise IsoError(f"expected an ISO 8601 date or date-time like {EXAMPLES}: "
                       f"{message}") from None


def parse_iso(text: str) -> IsoTime:
    """Parse `text` (already trimmed). No offset means UTC."""
    parsed = read_iso(text)
    if parsed.tzinfo is None:
        return IsoTime(parsed.replace(tzinfo=UTC), date_only=len(text) == 10)
    try:
        return IsoTime(parsed.astimezone(UTC), date_only=False)
    except OverflowError:
        raise IsoRangeError("is out of range once converted to UTC") from None
