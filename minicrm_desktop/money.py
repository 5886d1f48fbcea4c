"""Money as integer minor units (paise): parsing and display, never through floats."""

from __future__ import annotations

import re
from decimal import Decimal

MINOR_PER_UNIT = 100
CURRENCY_SYMBOL = "₹"

_PLAIN_AMOUNT = re.compile(r"([0-9]+)(?:\.([0-9]{1,2}))?")  # ASCII digits only


def parse_amount(text: str) -> int:
    """Parse a plain decimal amount ("5000", "5000.5") into minor units.

    Thousands separators, signs and currency symbols are refused: an import must not guess.
    """
    match = _PLAIN_AMOUNT.fullmatch(text)
    if match is None:
        raise ValueError(
            f"expected a plain amount with at most 2 decimals like 5000 or 5000.50, got {text!r}"
        )
    whole, frac = match.group(1), match.group(2) or ""
    return int(whole) * MINOR_PER_UNIT + int(frac.ljust(2, "0") or 0)


def minor_to_decimal(minor: int) -> Decimal:
    return Decimal(minor) / MINOR_PER_UNIT


def format_money(minor: int, symbol: str = CURRENCY_SYMBOL) -> str:
    """₹12,345.50 — grouped by thousands, always two decimals."""
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), MINOR_PER_UNIT)
    return f"{sign}{symbol}{whole:,}.{frac:02d}"
