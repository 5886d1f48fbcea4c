"""Reading amounts and dates in the common non-contract formats, when the user asked to.

Each form is matched whole, never guessed at: `1,00,000` (Indian grouping), `1,000,000`
(Western), `₹ 5,000.50`, `Rs. 500`, `INR 500`; `31/12/2024` (with `/`, `-` or `.`, and an
optional `HH:MM[:SS]`) in the day or month order the user chose. A cell in none of these
forms is refused with a reason, as under the strict contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from . import values as v
from .options import DateOrder, ImportOptions

# A currency sign before the number: ₹, Rs, Rs., INR (any case), with or without a space.
_SIGN = re.compile(r"(?:₹|[Rr][Ss]\.?|[Ii][Nn][Rr])\s*")
_FRACTION = r"(?:\.[0-9]{1,2})?"
_PLAIN = re.compile(rf"[0-9]+{_FRACTION}")
# Grouped the same way in both systems (up to 99,999).
_THOUSANDS = re.compile(rf"[0-9]{{1,2}},[0-9]{{3}}{_FRACTION}")
_WESTERN = re.compile(rf"[0-9]{{1,3}}(?:,[0-9]{{3}})+{_FRACTION}")
_INDIAN = re.compile(rf"[0-9]{{1,2}}(?:,[0-9]{{2}})+,[0-9]{{3}}{_FRACTION}")

_SLASHED = re.compile(
    r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})"
    r"(?:[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?"
)

AMOUNT_EXAMPLES = "5000.50, 1,00,000, 1,000,000.50, ₹5,000 or Rs. 500"


def amount_form(text: str) -> tuple[str, str] | None:
    """(sign, grouping) of an amount cell lenient reading accepts: sign is "" or the sign as
    written; grouping is "plain", "thousands" (both systems agree), "western" or "indian".
    None for any other text."""
    value = text.strip()
    sign = ""
    m = _SIGN.match(value)
    if m:
        sign, value = m.group().strip(), value[m.end():]
    if _PLAIN.fullmatch(value):
        return sign, "plain"
    if _THOUSANDS.fullmatch(value):
        return sign, "thousands"
    if _WESTERN.fullmatch(value):
        return sign, "western"
    if _INDIAN.fullmatch(value):
        return sign, "indian"
    return None


def parse_lenient_amount(text: str) -> int:
    """An amount in minor units from any form `amount_form` accepts."""
    value = text.strip()
    if amount_form(value) is None:
        raise ValueError(f"expected an amount like {AMOUNT_EXAMPLES}, got {v._clip(value)!r}")
    m = _SIGN.match(value)
    if m:
        value = value[m.end():]
    return v.parse_amount_cell(value.replace(",", ""))


def slashed_parts(text: str) -> tuple[int, int, int, str] | None:
    """(first, second, year, time "HH:MM:SS" or "") of a `31/12/2024` style cell."""
    m = _SLASHED.fullmatch(text.strip())
    if m is None:
        return None
    first, _, second, year, hh, mm, ss = m.groups()
    clock = f"{hh}:{mm}:{ss or '00'}" if hh else ""
    return int(first), int(second), int(year), clock


def readings(text: str) -> dict[DateOrder, datetime]:
    """The instants a `31/12/2024` style cell stands for in each order where it is a real
    date (UTC, no offset can be written in this form)."""
    parts = slashed_parts(text)
    if parts is None:
        return {}
    first, second, year, clock = parts
    out: dict[DateOrder, datetime] = {}
    for order, (day, month) in (("DMY", (first, second)), ("MDY", (second, first))):
        try:
            day_start = datetime(year, month, day, tzinfo=UTC)
            if clock:
                h, m, s = (int(x) for x in clock.split(":"))
                day_start = day_start.replace(hour=h, minute=m, second=s)
        except ValueError:
            continue
        out[order] = day_start  # type: ignore[index]
    return out


def parse_dated_timestamp(text: str, order: DateOrder) -> str:
    """`values.parse_timestamp` that also reads `31/12/2024` forms in `order`."""
    value = text.strip()
    if order == "ISO" or slashed_parts(value) is None:
        try:
            return v.parse_timestamp(value)
        except ValueError as exc:
            if order == "ISO":
                raise
            raise ValueError(
                f"expected a date like {_EXAMPLE[order]} or an ISO 8601 date, got "
                f"{v._clip(value)!r}"
            ) from exc
    parsed = readings(value).get(order)
    if parsed is None:
        word = "day-first" if order == "DMY" else "month-first"
        raise ValueError(f"{value!r} is not a real {word} ({order}) date")
    return v.parse_timestamp(parsed.strftime("%Y-%m-%dT%H:%M:%S"))


_EXAMPLE: dict[DateOrder, str] = {"DMY": "31/12/2024", "MDY": "12/31/2024", "ISO": "2024-12-31"}


def read_amount(text: str, options: ImportOptions) -> int:
    """An amount cell as `options` say to read it (the contract's reading by default)."""
    return parse_lenient_amount(text) if options.amounts == "lenient" else v.parse_amount_cell(text)


def date_reader(options: ImportOptions) -> Callable[[str], str]:
    """`read_timestamp` with `options` applied: chosen once per import, not per cell."""
    if options.dates == "ISO":
        return v.parse_timestamp
    return partial(parse_dated_timestamp, order=options.dates)


def read_timestamp(text: str, options: ImportOptions) -> str:
    """A date cell as `options` say to read it (ISO 8601 only by default)."""
    return v.parse_timestamp(text) if options.dates == "ISO" else parse_dated_timestamp(
        text, options.dates)
