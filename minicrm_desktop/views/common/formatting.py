"""How values look in the views: money with the currency symbol, instants in local time."""

from __future__ import annotations

from datetime import datetime

from minicrm_desktop.money import format_money

__all__ = ["format_date", "format_datetime", "format_money", "format_count"]


def format_date(value: datetime | None) -> str:
    """The local calendar date of a UTC instant: "14 Mar 2025"."""
    return "" if value is None else _local(value, "%d %b %Y")


def format_datetime(value: datetime | None) -> str:
    return "" if value is None else _local(value, "%d %b %Y, %H:%M")


def _local(value: datetime, pattern: str) -> str:
    """In local time; an instant at the calendar's edge (year 1 or 9999, stored before the
    import checked ranges) has no local time east or west of UTC, so it is shown in UTC."""
    try:
        return value.astimezone().strftime(pattern)
    except (OverflowError, ValueError):
        return value.strftime(pattern) + " UTC"


def format_count(n: int, noun: str, plural: str | None = None) -> str:
    word = noun if n == 1 else (plural or noun + "s")
    return f"{n:,} {word}"
