"""Periods and dates in marketer's words, as contract conditions on a datetime field:
"in the last 30 days", "in 6 months", "this year", "last month", "since 2025",
"before March 2024", "in 2025", "on 2026-05-01", "between Jan 2025 and Mar 2025",
"more than 2 years ago"."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..errors import NotUnderstood
from .numbers import WORD_COUNTS

MONTHS = {
    name: index
    for index in range(1, 13)
    for name in (calendar.month_name[index].lower(), calendar.month_abbr[index].lower())
}
MONTHS["sept"] = 9
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUMBER = r"([0-9]+|" + "|".join(sorted(WORD_COUNTS, key=len, reverse=True)) + r"|a|an)"
_UNIT = r"(days?|weeks?|months?|years?)"

_ISO = re.compile(r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})\b")
_DAY_MONTH = re.compile(
    rf"\s*([0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\b\.?,?(?:\s+([0-9]{{4}}))?")
_MONTH_DAY = re.compile(
    rf"\s*({_MONTH})\.?\s+([0-9]{{1,2}})(?:st|nd|rd|th)?\b,?(?:\s+([0-9]{{4}}))?"
)
_MONTH_YEAR = re.compile(rf"\s*({_MONTH})\b\.?,?(?:\s+([0-9]{{4}}))?")
_YEAR = re.compile(r"\s*((?:19|20)[0-9]{2})\b")


@dataclass(frozen=True)
class Span:
    """A calendar span of whole days, both ends inclusive (a day, a month or a year)."""

    first: date
    last: date


def _number(word: str) -> int:
    if word.isdigit():
        return int(word)
    return 1 if word in ("a", "an") else WORD_COUNTS[word]


def _unit(word: str) -> str:
    return word if word.endswith("s") else word + "s"


def read_date(text: str, pos: int, today: date) -> tuple[Span, int] | None:
    """A date, month or year at `pos`."""
    m = _ISO.match(text, pos)
    if m:
        try:
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise NotUnderstood(f'"{m.group(0).strip()}" is not a date') from None
        return Span(day, day), m.end()
    for pattern, order in ((_DAY_MONTH, "dm"), (_MONTH_DAY, "md")):
        m = pattern.match(text, pos)
        if m:
            d, mon = (m.group(1), m.group(2)) if order == "dm" else (m.group(2), m.group(1))
            year = int(m.group(3)) if m.group(3) else today.year
            try:
                day = date(year, MONTHS[mon], int(d))
            except ValueError:
                raise NotUnderstood(f'"{m.group(0).strip()}" is not a date') from None
            return Span(day, day), m.end()
    m = _MONTH_YEAR.match(text, pos)
    if m:
        year = int(m.group(2)) if m.group(2) else today.year
        month = MONTHS[m.group(1)]
        last = calendar.monthrange(year, month)[1]
        return Span(date(year, month, 1), date(year, month, last)), m.end()
    m = _YEAR.match(text, pos)
    if m:
        year = int(m.group(1))
        return Span(date(year, 1, 1), date(year, 12, 31)), m.end()
    return None


_ROLLING = re.compile(
    rf"\s*(?:(?:in|within|during|over|for)\s+)?(?:the\s+)?(?:last|past|previous)\s+"
    rf"(?:{_NUMBER}\s+)?{_UNIT}\b"
)
_BARE_ROLLING = re.compile(rf"\s*(?:in|within|for)\s+(?:over\s+)?{_NUMBER}\s+{_UNIT}\b")
_AGO = re.compile(
    rf"\s*(more\s+than|over|less\s+than|under|within(?:\s+the\s+last)?)\s+{_NUMBER}\s+{_UNIT}"
    rf"\s+ago\b"
)
_THIS = re.compile(r"\s*(?:in\s+|during\s+)?this\s+(year|month|week)\b")
_LAST_CAL = re.compile(r"\s*(?:in\s+|during\s+)?last\s+(year|month)\b")
_TODAY = re.compile(r"\s*(today|yesterday)\b")
_SINCE = re.compile(r"\s*(?:since|from|starting)\b")
_BEFORE = re.compile(r"\s*(?:before|prior\s+to|until|till|earlier\s+than)\b")
_AFTER = re.compile(r"\s*(?:after|later\s+than)\b")
_IN = re.compile(r"\s*(?:in|during|within)\b")
_ON = re.compile(r"\s*on\b")
_BETWEEN = re.compile(r"\s*between\b")
_AND = re.compile(r"\s*(?:and|to|-|–)\b")
_VAGUE = re.compile(r"\s*(recently|lately|a\s+while\s+ago|long\s+ago|some\s+time\s+ago)\b")


def iso(day: date) -> str:
    return day.isoformat()


def _within(span: Span) -> dict[str, Any]:
    """On the day, or within the month or year."""
    if span.first == span.last:
        return {"operator": "=", "value": iso(span.first)}
    return {"operator": "between", "value": [iso(span.first), iso(span.last)]}


def read_period(text: str, pos: int, as_of: datetime) -> tuple[dict[str, Any], int] | None:
    """A period at `pos` as (the operator and value of a condition, end)."""
    today = as_of.date()
    m = _VAGUE.match(text, pos)
    if m:
        raise NotUnderstood(
            f'"{m.group(1)}" does not say how long; write a period such as '
            '"in the last 30 days"')
    m = _LAST_CAL.match(text, pos)  # "last year" is the calendar year; "the last year" rolls
    if m:
        if m.group(1) == "year":
            span = Span(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))
        else:
            end = today.replace(day=1) - timedelta(days=1)
            span = Span(end.replace(day=1), end)
        return {"operator": "between", "value": [iso(span.first), iso(span.last)]}, m.end()
    for pattern in (_ROLLING, _BARE_ROLLING):
        m = pattern.match(text, pos)
        if m:
            amount = _number(m.group(1)) if m.group(1) else 1
            if amount < 1:
                raise NotUnderstood(f'"{m.group(0).strip()}" is not a period')
            value = {"amount": amount, "unit": _unit(m.group(2))}
            return {"operator": "withinLast", "value": value}, m.end()
    m = _AGO.match(text, pos)
    if m:
        amount = _number(m.group(2))
        value = {"amount": amount, "unit": _unit(m.group(3))}
        if m.group(1).startswith(("more", "over")):
            return {"operator": "notWithinLast", "value": value, "known": True}, m.end()
        return {"operator": "withinLast", "value": value}, m.end()
    m = _THIS.match(text, pos)
    if m:
        unit = m.group(1)
        start = (date(today.year, 1, 1) if unit == "year" else
                 today.replace(day=1) if unit == "month" else
                 today - timedelta(days=today.weekday()))
        return {"operator": ">=", "value": iso(start)}, m.end()
    m = _TODAY.match(text, pos)
    if m:
        day = today if m.group(1) == "today" else today - timedelta(days=1)
        return {"operator": "=", "value": iso(day)}, m.end()
    m = _BETWEEN.match(text, pos)
    if m:
        first = read_date(text, m.end(), today)
        join = _AND.match(text, first[1]) if first else None
        second = read_date(text, join.end(), today) if first and join else None
        if first and second:
            if first[0].first > second[0].last:
                raise NotUnderstood("the dates of the period run backwards")
            return {"operator": "between",
                    "value": [iso(first[0].first), iso(second[0].last)]}, second[1]
        return None
    for pattern, make in (
        (_SINCE, lambda s: {"operator": ">=", "value": iso(s.first)}),
        (_BEFORE, lambda s: {"operator": "<", "value": iso(s.first)}),
        (_AFTER, lambda s: {"operator": ">", "value": iso(s.last)}),
        (_ON, _within),
        (_IN, _within),
    ):
        m = pattern.match(text, pos)
        if m:
            found = read_date(text, m.end(), today)
            if found is not None:
                return make(found[0]), found[1]
    return None
