"""Argument types shared by commands."""

from __future__ import annotations

import argparse
from datetime import datetime

from ..models.iso_dates import IsoError, parse_iso


def iso_datetime(text: str) -> datetime:
    """An ISO 8601 date or date-time in the extended forms; no offset means UTC, a plain
    date its 00:00 UTC."""
    try:
        return parse_iso(text.strip()).utc
    except IsoError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, got {text!r}") from None
