"""Reading a condition's JSON value into a typed value, with the contract's messages.

Each reader raises `ValueProblem(message, subpath)`; the rule validator adds the path.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .iso_dates import IsoError, IsoRangeError, parse_iso
from .rules_fields import MONEY_FIELDS, NO_VALUE_OPERATORS, PERIOD_UNITS, FieldType

#: Longest text value accepted; longer than any stored column, so nothing is lost.
MAX_TEXT_LENGTH = 1000
#: Most values in one `in`/`notIn` list.
MAX_LIST_VALUES = 1000
#: Numbers are refused beyond this magnitude: it keeps every comparison exact in 64-bit
#: integers on both engines (money is compared in paise, times the order count).
MAX_NUMBER = Decimal(10) ** 12

_NUMERIC_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")  # ASCII digits only
_SURROGATE = re.compile("[\ud800-\udfff]")


class ValueProblem(ValueError):
    def __init__(self, message: str, subpath: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.subpath = subpath


@dataclass(frozen=True)
class Period:
    amount: int
    unit: str


@dataclass(frozen=True)
class DatePoint:
    """A datetime value: a whole UTC day [start, end) or, for a date-time, one instant.

    `end` is None when the day after is past the last representable date.
    """

    start: datetime
    end: datetime | None
    whole_day: bool


class HugeInteger:
    """A JSON integer too long for Python to convert (over 4,300 digits): kept as its
    digits, so the validator can refuse it by its path instead of the JSON reader failing."""

    def __init__(self, digits: str) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"HugeInteger({len(self.digits)} digits)"


def show(value: Any, limit: int = 60) -> str:
    """The value as JSON, shortened, for messages."""
    if isinstance(value, HugeInteger):
        return f"an integer of {len(value.digits.lstrip('-'))} digits"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, str) and len(value) > limit:
        value = value[:limit]  # don't encode a megabyte to show sixty characters
    try:
        text = json.dumps(value, ensure_ascii=False)
    except RecursionError:
        return "a value nested too deeply to show"
    except (TypeError, ValueError):
        text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_value(field: str, ftype: FieldType, operator: str, value: Any, present: bool) -> Any:
    """The typed value of a condition, or ValueProblem. Text comes back in NFC; tag names
    trimmed and lower-cased, as tags are stored."""
    if operator in NO_VALUE_OPERATORS:
        # Ignored: react-querybuilder keeps the last value typed when the operator changes.
        return None
    if not present:
        raise ValueProblem("missing")
    if operator in ("between", "notBetween"):
        return _read_range(field, ftype, value)
    if operator in ("withinLast", "notWithinLast"):
        return read_period(value)
    if operator in ("in", "notIn"):
        texts = _read_text_list(value)
        return [_tag(t) for t in texts] if ftype is FieldType.TAGS else texts
    single = _read_single(field, ftype, value)
    return _tag(single) if ftype is FieldType.TAGS else single


def _tag(text: str) -> str:
    return text.strip().lower()


def _read_single(field: str, ftype: FieldType, value: Any) -> Any:
    if ftype in (FieldType.STRING, FieldType.TAGS):
        return read_text(value)
    if ftype is FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueProblem(f"expected true or false, got {show(value)}")
        return value
    if ftype is FieldType.DATETIME:
        return read_datetime(value)
    return read_number(field, ftype, value)


def read_text(value: Any) -> str:
    """A non-blank text, in NFC (stored text is NFC too)."""
    if not isinstance(value, str):
        raise ValueProblem(f"expected a text, got {show(value)}")
    if not value.strip():
        blank = "" if value == "" else f", got blank text {show(value)}"
        raise ValueProblem(
            f'expected a non-empty text (use the "null" operator for empty values){blank}'
        )
    if len(value) > MAX_TEXT_LENGTH:
        raise ValueProblem(f"text longer than {MAX_TEXT_LENGTH} characters")
    if "\x00" in value:  # SQLite's LIKE would stop at it and match everything
        raise ValueProblem("text contains a NUL character")
    surrogate = _SURROGATE.search(value)
    if surrogate:  # JSON's "\ud800" alone: no character, and no database can store it
        raise ValueProblem(
            f"text is not valid Unicode (a lone surrogate U+{ord(surrogate.group()):04X})")
    return unicodedata.normalize("NFC", value)


def _read_text_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ValueProblem(f"expected a non-empty list of texts, got {show(value)}")
    if len(value) > MAX_LIST_VALUES:
        raise ValueProblem(f"more than {MAX_LIST_VALUES} values in one list")
    out = []
    for index, item in enumerate(value):
        try:
            out.append(read_text(item))
        except ValueProblem as exc:
            raise ValueProblem(exc.message, f"[{index}]") from None
    return out


def read_number(field: str, ftype: FieldType, value: Any) -> Decimal:
    """A JSON number or numeric string, exact; integers for integer fields, paise for money."""
    if isinstance(value, bool):
        raise ValueProblem(f"expected a number, got {show(value)}")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueProblem(f"expected a number, got {show(value)}")
        number = Decimal(repr(value))  # the shortest decimal that reads back as this float
    elif isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value):
        try:
            number = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid text
            raise ValueProblem(f"expected a number, got {show(value)}") from None
    elif isinstance(value, HugeInteger):
        raise ValueProblem(f"number out of range (at most {MAX_NUMBER:,} either way)")
    else:
        raise ValueProblem(f"expected a number, got {show(value)}")
    if abs(number) > MAX_NUMBER:
        raise ValueProblem(f"number out of range (at most {MAX_NUMBER:,} either way)")
    if ftype is FieldType.INTEGER and number != number.to_integral_value():
        raise ValueProblem(f"expected a whole number, got {show(value)}")
    if field in MONEY_FIELDS and (number * 100) != (number * 100).to_integral_value():
        raise ValueProblem(f"expected an amount with at most 2 decimals, got {show(value)}")
    return number


def read_datetime(value: Any) -> DatePoint:
    """An ISO 8601 date (a whole UTC day) or date-time (an instant; no offset means UTC), in
    the extended forms only (iso_dates.py); fractions of a second are dropped."""
    if not isinstance(value, str):
        raise ValueProblem(f"expected an ISO 8601 date or date-time, got {show(value)}")
    try:
        parsed = parse_iso(value.strip())
    except IsoRangeError:
        raise ValueProblem(f"date out of range, got {show(value)}") from None
    except IsoError as exc:
        raise ValueProblem(f"{exc}, got {show(value)}") from None
    if parsed.date_only:
        return DatePoint(parsed.utc, _add_day(parsed.utc), whole_day=True)
    return DatePoint(parsed.utc, parsed.utc, whole_day=False)


def _add_day(start: datetime) -> datetime | None:
    try:
        return start + timedelta(days=1)
    except OverflowError:
        return None


def _read_range(field: str, ftype: FieldType, value: Any) -> tuple[Any, Any]:
    if ftype not in (FieldType.NUMBER, FieldType.INTEGER, FieldType.DATETIME):
        raise ValueProblem("between is not defined for this field")  # pragma: no cover
    if not isinstance(value, list) or len(value) != 2:
        raise ValueProblem(f"expected a list of two values [low, high], got {show(value)}")
    ends = []
    for index, item in enumerate(value):
        try:
            ends.append(_read_single(field, ftype, item))
        except ValueProblem as exc:
            raise ValueProblem(exc.message, f"[{index}]") from None
    low, high = ends
    if isinstance(low, DatePoint):
        if _empty_range(low, high):
            raise ValueProblem(f"low end is after high end in {show(value)}")
    elif low > high:
        raise ValueProblem(f"low end is greater than high end in {show(value)}")
    return low, high


def _empty_range(low: DatePoint, high: DatePoint) -> bool:
    if high.whole_day:  # up to the end of that day (exclusive), if there is one
        return high.end is not None and low.start >= high.end
    return low.start > high.start


def read_period(value: Any) -> Period:
    if not isinstance(value, dict):
        raise ValueProblem(
            f'expected {{"amount": N, "unit": "days"|"weeks"|"months"|"years"}}, got {show(value)}'
        )
    if "amount" not in value:
        raise ValueProblem("missing", ".amount")
    amount = value["amount"]
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise ValueProblem(f"expected a positive whole number, got {show(amount)}", ".amount")
    if "unit" not in value:
        raise ValueProblem("missing", ".unit")
    unit = value["unit"]
    if unit not in PERIOD_UNITS:
        raise ValueProblem(
            f'expected "days", "weeks", "months" or "years", got {show(unit)}', ".unit"
        )
    return Period(amount, unit)
