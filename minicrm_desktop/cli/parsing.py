"""Argument types shared by commands."""

from __future__ import annotations

import argparse
import re
from datetime import datetime

from ..models.iso_dates import IsoError, parse_iso


def iso_datetime(text: str) -> datetime:
    """An ISO 8601 date or date-time in the extended forms; no offset means UTC, a plain
    date its 00:00 UTC."""
    try:
        return parse_iso(text.strip()).utc
    except IsoError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, got {text!r}") from None


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def percent(text: str) -> int:
    try:
        value = int(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole percent, got {text!r}") from None
    if not 1 <= value <= 99:
        raise argparse.ArgumentTypeError(f"must be 1 to 99 percent, got {value}")
    return value


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+)([smhd])")


def duration(text: str) -> int:
    """Seconds from "90s", "30m", "2h", "1h30m", "1d" (a bare number: seconds)."""
    value = text.strip().lower()
    if value.isdigit():
        return int(value)
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise argparse.ArgumentTypeError(
            f"expected a time like 90s, 30m, 2h or 1h30m, got {text!r}")
    return sum(int(n) * _UNITS[u] for n, u in parts)


def at_least_one(text: str) -> int:
    """A whole number of at least 1 (argparse names the option in its message)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
