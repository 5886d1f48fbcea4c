"""Reading a condition's JSON value into a typed value, with the contract's messages.

Each reader raises `ValueProblem(message, subpath)`; the rule validator adds the path.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .rules_fields import MONEY_FIELDS, NO_VALUE_OPERATORS, PERIOD_UNITS, FieldType

#: Longest text value accepted; longer than any stored column, so nothing is lost.
MAX_TEXT_LENGTH = 1000
#: Most values in one `in`/`notIn` list.
MAX_LIST_VALUES = 1000
#: Numbers are refused beyond this magnitude: it keeps every comparison exact in 64-bit
#: integers on both engines (money is compared in paise, times the order count).
MAX_NUMBER = Decimal(10) ** 12

_NUMERIC_TEXT = re.compile(r"-?\d+(?:\.\d+)?")


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


def show(value: Any, limit: int = 60) -> str:
    """The value as JSON, shortened, for messages."""
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
    """The typed value of a condition, or ValueProblem."""
    if operator in NO_VALUE_OPERATORS:
        # react-querybuilder writes "" or null for operators without a value.
        if present and value not in (None, ""):
            raise ValueProblem(f'"{operator}" takes no value, got {show(value)}')
        return None
    if not present:
        raise ValueProblem("missing")
    if operator in ("between", "notBetween"):
        return _read_range(field, ftype, value)
    if operator in ("withinLast", "notWithinLast"):
        return read_period(value)
    if operator in ("in", "notIn"):
        return _read_text_list(value)
    return _read_single(field, ftype, value)


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
    if not isinstance(value, str):
        raise ValueProblem(f"expected a text, got {show(value)}")
    if value == "":
        raise ValueProblem('expected a non-empty text (use the "null" operator for empty values)')
    if len(value) > MAX_TEXT_LENGTH:
        raise ValueProblem(f"text longer than {MAX_TEXT_LENGTH} characters")
    if "\x00" in value:  # SQLite's LIKE would stop at it and match everything
        raise ValueProblem("text contains a NUL character")
    return value


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
    """An ISO 8601 date (a whole UTC day) or date-time (an instant; no offset means UTC)."""
    if not isinstance(value, str):
        raise ValueProblem(f"expected an ISO 8601 date or date-time, got {show(value)}")
    text = value.strip()
    if len(text) <= 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            pass
        else:
            start = datetime.combine(day, time(), UTC)
            return DatePoint(start, _add_day(start), whole_day=True)
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ValueProblem(
            f"expected an ISO 8601 date or date-time like 2026-05-01 or "
            f"2026-05-01T10:00:00Z, got {show(value)}"
        ) from None
    instant = instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant
    try:
        instant = instant.astimezone(UTC)
    except OverflowError:
        raise ValueProblem(f"date out of range, got {show(value)}") from None
    return DatePoint(instant, instant, whole_day=False)


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
