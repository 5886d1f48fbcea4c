"""Relative dates resolved in Python from `as_of`, so no engine's clock or time zone is used."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

from ...models.rules_values import Period


def resolve_as_of(as_of: datetime | None) -> datetime:
    """The clock of a query: the given instant (naive means UTC), or now."""
    if as_of is None:
        return datetime.now(UTC)
    return as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)


def months_before(moment: datetime, months: int) -> datetime | None:
    """`moment` minus calendar months, the day clamped to the month's end (Aug 31 - 6 = Feb 28/29).

    None when the result would fall before year 1: the period reaches back past all time.
    """
    index = moment.year * 12 + (moment.month - 1) - months
    year, month0 = divmod(index, 12)
    if year < 1:
        return None
    month = month0 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_start(as_of: datetime, period: Period) -> datetime | None:
    """The start of "within the last N units" before `as_of`; None if before all time."""
    if period.unit in ("months", "years"):
        months = period.amount * (12 if period.unit == "years" else 1)
        return months_before(as_of, months)
    days = period.amount * (7 if period.unit == "weeks" else 1)
    try:
        return as_of - timedelta(days=days)
    except OverflowError:
        return None
