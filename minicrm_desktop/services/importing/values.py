"""Parsers for CSV cell values. Each raises ValueError with a reason fit for a report.

Every value is checked against what its column can hold before it reaches the database, so
a cell out of range rejects its own row, never the batch around it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime

from ...models.iso_dates import IsoError, read_iso
from ...models.money import parse_amount

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_AMOUNT_MINOR",
    "MAX_INT32",
    "clean_cells",
    "parse_amount",
    "parse_amount_cell",
    "parse_bool",
    "parse_datetime",
    "parse_email",
    "parse_nonneg_int",
    "parse_timestamp",
    "parse_tag_cell",
    "parse_tags",
]

#: Visits and counts are 32-bit signed integers on both engines.
MAX_INT32 = 2**31 - 1
#: An order amount at most ₹10,000,000,000.00, in paise.
MAX_AMOUNT_MINOR = 10**12
#: Stored instants lie between these (UTC, inclusive).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_WHOLE = re.compile(r"[0-9]+")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}
_BOOLS = {"": True} | dict.fromkeys(_TRUE, True) | dict.fromkeys(_FALSE, False)
# Control characters (C0 but tab, DEL, C1): invisible, and a NUL truncates text in C code.
CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def clean_cells(cells: list[str]) -> tuple[list[str], int | None, str]:
    """The row's cells in NFC, or the index of the first cell holding a control character
    (and which one). One pass over the joined row keeps the common case cheap."""
    if CONTROL.search("".join(cells)):
        for index, cell in enumerate(cells):
            m = CONTROL.search(cell)
            if m:
                return cells, index, f"U+{ord(m.group()):04X}"
    joined = "\n".join(cells)  # a line break composes with nothing
    if not joined.isascii() and not unicodedata.is_normalized("NFC", joined):
        cells = [unicodedata.normalize("NFC", cell) for cell in cells]
    return cells, None, ""


def parse_email(text: str) -> str:
    value = text.strip()
    if not value:
        raise ValueError("is required")
    if len(value) > 320 or not _EMAIL.fullmatch(value):
        raise ValueError(f"{_clip(value)!r} does not look like an email address")
    # A few letters grow when lower-cased (İ -> i̇); ASCII ones never do.
    if not value.isascii() and len(value.lower()) > 320:
        raise ValueError(f"{_clip(value)!r} is longer than 320 characters once lower-cased")
    return value


def parse_datetime(text: str) -> datetime:
    """ISO 8601 date or date-time in UTC, whole seconds, between 1900 and 2999."""
    parsed = _parse_utc(text)
    return parsed.replace(tzinfo=UTC, microsecond=0)


def parse_timestamp(text: str) -> str:
    """`parse_datetime`, in the storage form bulk writers hand to the driver."""
    # The common form, UTC to the second, is read off the text (a million rows hold two
    # each); its day is checked once. Anything else, or a day that is not real or in
    # range, takes the full reading, which also words the reason.
    m = _UTC_SECONDS.fullmatch(text)
    if m is not None:
        day = m.group(1)
        if day in _REAL_DAYS or _real_day(day):
            return f"{day} {text[11:19]}.000000"
    # "YYYY-MM-DD HH:MM:SS" without the offset an aware value would add; no fraction.
    return _parse_utc(text).isoformat(" ", "seconds")[:19] + ".000000"


# YYYY-MM-DD, a T or space, a real time of day, and Z or nothing (UTC either way).
_UTC_SECONDS = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z?"
)
_REAL_DAYS: set[str] = set()


def _real_day(day: str) -> bool:
    """Whether `day` (YYYY-MM-DD) is a calendar day within the stored range; remembered."""
    try:
        year = date.fromisoformat(day).year
    except ValueError:
        return False
    if not 1900 <= year <= 2999:
        return False
    if len(_REAL_DAYS) < 500_000:  # every day of the range fits; bounded all the same
        _REAL_DAYS.add(day)
    return True


def _parse_utc(text: str) -> datetime:
    """`text` in UTC: naive (no offset given) or aware; range checked. A million rows parse
    two dates each, so this does no more than it must."""
    value = text.strip()
    try:
        parsed = read_iso(value)
        if parsed.tzinfo is not None and parsed.tzinfo is not UTC:
            parsed = parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{_clip(value)!r} is out of range once converted to UTC") from None
    except IsoError as exc:
        raise ValueError(f"{exc}, got {_clip(value)!r}") from None
    if not 1900 <= parsed.year <= 2999:  # EARLIEST and LATEST bound whole years
        raise ValueError(
            f"{_clip(value)!r} is out of range: dates must fall between 1900-01-01 and "
            "2999-12-31 (UTC)"
        )
    return parsed


def parse_nonneg_int(text: str) -> int:
    if len(text) < 10 and text.isdigit() and text.isascii():  # the common case, in range
        return int(text)
    value = text.strip()
    if not value:
        return 0
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"expected a whole number of 0 or more, got {_clip(value)!r}")
    digits = value.lstrip("0") or "0"
    if len(digits) > 10 or int(digits) > MAX_INT32:
        raise ValueError(f"{_clip(value)!r} is out of range (at most {MAX_INT32:,})")
    return int(digits)


def parse_bool(text: str) -> bool:
    known = _BOOLS.get(text)  # the common spellings as they are
    if known is not None:
        return known
    value = text.strip().lower()
    if not value or value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected true/false, yes/no or 1/0, got {_clip(text)!r}")


def parse_tags(text: str) -> list[str]:
    """`vip|newsletter` → labels, blank ones dropped, duplicates (any case) merged."""
    return parse_tag_cell(text)[0]


def parse_tag_cell(text: str) -> tuple[list[str], str]:
    """`parse_tags`, and the labels as `customers.tags_norm` stores them
    (models.text.tags_key: "|newsletter|vip|", or "")."""
    if not text or text.isspace():
        return [], ""
    seen: dict[str, str] = {}
    for label in text.split("|"):
        label = label.strip()
        if label:
            key = label.lower()
            if key not in seen:
                if len(label) > 255 or len(key) > 255:
                    raise ValueError(f"tag {_clip(label)!r} is longer than 255 characters")
                seen[key] = label
    return list(seen.values()), (f"|{'|'.join(sorted(seen))}|" if seen else "")


def parse_amount_cell(text: str) -> int:
    value = text.strip()
    whole = _WHOLE.match(value)
    if whole:
        digits = whole.group()
        significant = len(digits.lstrip("0"))
        if significant > 11:  # past 10^10 without converting (5,000 digits would fail)
            raise ValueError(f"{_clip(value)!r} is out of range (at most 10,000,000,000.00)")
        value = value[len(digits) - max(1, significant):]  # leading zeros change nothing
    minor = parse_amount(value)
    if minor > MAX_AMOUNT_MINOR:
        raise ValueError(f"{_clip(text.strip())!r} is out of range (at most 10,000,000,000.00)")
    return minor


def _clip(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[:limit] + "…"
