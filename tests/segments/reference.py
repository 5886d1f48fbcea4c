"""A straightforward in-Python reading of spec/segment-rules.md, written independently of
the SQL compiler, to check its audiences against. Slow and simple on purpose."""

from __future__ import annotations

import calendar
import unicodedata
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .population import Person

STRING = {"name", "email", "phone", "city"}
NUMBER = {"visits", "order_count", "total_spend", "avg_order_value"}
DATETIME = {"signup_date", "last_visit", "first_order_date", "last_order_date"}
NEGATIVE = {
    "!=": "=", "doesNotContain": "contains", "doesNotBeginWith": "beginsWith",
    "doesNotEndWith": "endsWith", "notIn": "in", "notBetween": "between",
    "notWithinLast": "withinLast", "notNull": "null",
}


def matches(rule: dict[str, Any], person: Person, as_of: datetime) -> bool:
    """Whether `person` belongs to the rule tree (a valid tree, as JSON)."""
    result = _group(rule, person, as_of)
    return True if result is None else result


def _group(group: dict[str, Any], person: Person, as_of: datetime) -> bool | None:
    """None for a group with no conditions inside: it is ignored."""
    results = []
    for rule in group["rules"]:
        r = _group(rule, person, as_of) if "rules" in rule else _condition(rule, person, as_of)
        if r is not None:
            results.append(r)
    if not results:
        return None
    # An absent combinator means "and".
    value = all(results) if group.get("combinator", "and").lower() == "and" else any(results)
    return not value if group.get("not") else value


def _condition(cond: dict[str, Any], person: Person, as_of: datetime) -> bool:
    op = cond["operator"]
    if op in NEGATIVE:
        return not _positive(cond["field"], NEGATIVE[op], cond.get("value"), person, as_of)
    return _positive(cond["field"], op, cond.get("value"), person, as_of)


def _text(value: str | None) -> str | None:
    return None if value is None or value.strip() == "" else value.lower()


def _field_value(field: str, p: Person) -> Any:
    total = sum(a for a, _ in p.orders)
    dates = [d for _, d in p.orders]
    return {
        "name": _text(p.name), "email": _text(p.email), "phone": _text(p.phone),
        "city": _text(p.city), "signup_date": p.signup_date, "visits": p.visits,
        "last_visit": p.last_visit, "subscribed": p.subscribed,
        "tags": {t.lower() for t in p.tags},
        "total_spend": Fraction(total, 100), "order_count": len(p.orders),
        "avg_order_value": Fraction(total, 100 * len(p.orders)) if p.orders else None,
        "first_order_date": min(dates) if dates else None,
        "last_order_date": max(dates) if dates else None,
    }[field]


def _positive(field: str, op: str, value: Any, p: Person, as_of: datetime) -> bool:
    x = _field_value(field, p)
    if field == "tags":
        if op == "null":
            return not x
        # Tag values are trimmed and lower-cased, as stored tags are.
        wanted = ({value.strip().lower()} if isinstance(value, str)
                  else {v.strip().lower() for v in value})
        return bool(x & wanted)
    if op == "null":
        return x is None
    if x is None:
        return False
    if field == "subscribed":
        return x == value
    if field in STRING:
        # Values compare in NFC, as stored text is.
        v = _nfc(value).lower() if isinstance(value, str) else [_nfc(s).lower() for s in value]
        return {
            "=": lambda: x == v, "in": lambda: x in v, "contains": lambda: v in x,
            "beginsWith": lambda: x.startswith(v), "endsWith": lambda: x.endswith(v),
        }[op]()
    if field in NUMBER:
        if op == "between":
            lo, hi = (_number(v) for v in value)
            return lo <= x <= hi
        return _compare(x, op, _number(value))
    return _datetime(x, op, value, as_of)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _number(value: Any) -> Fraction:
    return Fraction(Decimal(str(value)))


def _compare(x: Any, op: str, v: Any) -> bool:
    return {"=": x == v, "<": x < v, "<=": x <= v, ">": x > v, ">=": x >= v}[op]


def _parse_when(text: str) -> tuple[datetime, bool]:
    """(instant or day start, is a plain date)."""
    if len(text) == 10:
        d = date.fromisoformat(text)
        return datetime(d.year, d.month, d.day, tzinfo=UTC), True
    t = datetime.fromisoformat(text)
    return (t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)), False


def _datetime(x: datetime, op: str, value: Any, as_of: datetime) -> bool:
    if op == "withinLast":
        return _minus(as_of, value["amount"], value["unit"]) <= x <= as_of
    if op == "between":
        (lo, _), (hi, hi_day) = _parse_when(value[0]), _parse_when(value[1])
        return lo <= x and (x.date() <= hi.date() if hi_day else x <= hi)
    t, is_day = _parse_when(value)
    day = x.date()
    if op == "=":
        return day == t.date()
    if is_day:
        return {"<": day < t.date(), "<=": day <= t.date(), ">": day > t.date(),
                ">=": day >= t.date()}[op]
    return _compare(x, op, t)


def _minus(moment: datetime, amount: int, unit: str) -> datetime:
    if unit in ("days", "weeks"):
        return moment - timedelta(days=amount * (7 if unit == "weeks" else 1))
    months = amount * (12 if unit == "years" else 1)
    year, month = moment.year, moment.month - months
    while month < 1:
        month += 12
        year -= 1
    return moment.replace(year=year, month=month,
                          day=min(moment.day, calendar.monthrange(year, month)[1]))
