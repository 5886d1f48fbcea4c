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
from datetime import UTC, datetime, timedelta

_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"(Z|z|[+-][0-9]{2}:[0-9]{2})?)?"
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


def parse_iso(text: str) -> IsoTime:
    """Parse `text` (already trimmed). No offset means UTC."""
    m = _ISO.fullmatch(text)
    if m is None:
        raise IsoError(f"expected an ISO 8601 date or date-time like {EXAMPLES}")
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    micro = int((fraction or "")[:6].ljust(6, "0"))
    try:
        local = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                         int(second or 0), micro, tzinfo=UTC)
    except ValueError as exc:
        raise IsoError(f"expected an ISO 8601 date or date-time like {EXAMPLES}: {exc}") from None
    if hour is None:
        return IsoTime(local, date_only=True)
    shift = timedelta(0)
    if offset and offset not in "Zz":
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise IsoError(f"expected an ISO 8601 date-time like {EXAMPLES}: offset {offset} "
                           "is not a real UTC offset")
        shift = timedelta(hours=hours, minutes=minutes) * (1 if offset[0] == "+" else -1)
    try:
        return IsoTime(local - shift, date_only=False)
    except OverflowError:
        raise IsoRangeError("is out of range once converted to UTC") from None
