"""Amounts and counts as marketers write them: 5000, 5,000, ₹5,000, Rs 5000, 5k, 1.5 lakh,
2 crore, 50 thousand; once, twice, three times; and the comparisons around them. Digits are
ASCII only, as the contracts say (a regex digit class would also read ٥٠٠٠)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from ..errors import NotUnderstood

_AMOUNT = re.compile(
    r"\s*(?:(?:₹|rs\.?|inr)\s*)?([0-9][0-9,]*(?:\.[0-9]+)?)"
    r"(?:\s*(k|thousand|lakhs?|lacs?|lakh|crores?|cr|mn|million))?\b"
    r"(?:\s*(?:rupees|rs\.?|inr|/-)(?=\s|$|[,.]))?"
)
_MULTIPLIERS = {
    "k": 1_000, "thousand": 1_000, "lakh": 100_000, "lakhs": 100_000, "lac": 100_000,
    "lacs": 100_000, "crore": 10_000_000, "crores": 10_000_000, "cr": 10_000_000,
    "mn": 1_000_000, "million": 1_000_000,
}
#: Commas either every three digits (5,000,000) or the Indian way (50,00,000).
_GROUPED = re.compile(
    r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,2}(?:,[0-9]{2})*,[0-9]{3}|[0-9]+"
)

WORD_COUNTS = {
    "no": 0, "zero": 0, "one": 1, "a single": 1, "two": 2, "three": 3,
    "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
}
TIMES_WORDS = {"once": 1, "twice": 2, "thrice": 3}
_COUNT = re.compile(
    r"\s*([0-9]+|" + "|".join(sorted(WORD_COUNTS, key=len, reverse=True)) + r")\b"
)

Reader = Callable[[str, int], tuple[Decimal, int] | None]


def read_amount(text: str, pos: int) -> tuple[Decimal, int] | None:
    """An amount of rupees at `pos`: (value, end) or None."""
    m = _AMOUNT.match(text, pos)
    if m is None:
        return None
    digits, unit = m.group(1), m.group(2)
    if "," in digits and not _GROUPED.fullmatch(digits.split(".")[0]):
        raise NotUnderstood(f'"{digits}" is not a number I can read (write 5000 or 5,000)')
    try:
        value = Decimal(digits.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return None
    if unit:
        value *= _MULTIPLIERS[unit]
    if value != value.quantize(Decimal("0.01")):
        raise NotUnderstood(f'"{m.group(0).strip()}" has more than 2 decimals of a rupee')
    return value.normalize() if value == value.to_integral_value() else value, m.end()


def read_count(text: str, pos: int) -> tuple[Decimal, int] | None:
    """A whole number at `pos` (digits or a word such as "three")."""
    m = _COUNT.match(text, pos)
    if m is None:
        return None
    word = m.group(1)
    if word.isdigit():
        return Decimal(int(word)), m.end()
    return Decimal(WORD_COUNTS[word]), m.end()


_BETWEEN = re.compile(r"\s*(?:between|from)\b")
_RANGE_JOIN = re.compile(r"\s*(?:and|to|-|–)\s*")
#: After a bare number only: "2 to 5", "2-5" ("and" would join two clauses).
_BARE_RANGE_JOIN = re.compile(r"\s*(?:to|-|–)\s*")
_PREFIX: list[tuple[str, str]] = [
    (">=", r"at\s+least|not\s+less\s+than|no\s+less\s+than|not\s+fewer\s+than|"
           r"no\s+fewer\s+than|not\s+under|not\s+below|min(?:imum)?(?:\s+of)?"),
    ("<=", r"at\s+most|up\s+to|not\s+more\s+than|no\s+more\s+than|not\s+over|not\s+above|"
           r"max(?:imum)?(?:\s+of)?|a\s+maximum\s+of"),
    (">", r"over|above|more\s+than|greater\s+than|higher\s+than|exceeding|in\s+excess\s+of|"
          r"upwards\s+of|beyond|>"),
    ("<", r"under|below|less\s+than|fewer\s+than|lower\s+than|beneath|<"),
    ("=", r"exactly|equal\s+to|equals|precisely|just|only|="),
]
_PREFIX_RE = [
    (op, re.compile(r"\s*(?:" + words + r")(?=\s|[0-9]|₹|$)")) for op, words in _PREFIX
]
_SUFFIX_RE = [
    (">=", re.compile(r"\s*(?:\+|or\s+more|or\s+above|and\s+above|and\s+more|or\s+higher|"
                      r"or\s+over|plus\b)")),
    ("<=", re.compile(r"\s*(?:or\s+less|or\s+fewer|or\s+below|and\s+below|and\s+under|"
                      r"or\s+under|or\s+lower)\b")),
]


def read_comparison(
    text: str, pos: int, read: Reader
) -> tuple[str, Decimal | list[Decimal], int] | None:
    """A comparison at `pos`: "over 5k", "between 2 and 5", "3 or more", "5000": the
    operator, the value (two for between) and the end."""
    m = _BETWEEN.match(text, pos)
    if m:
        first = read(text, m.end())
        if first is not None:
            join = _RANGE_JOIN.match(text, first[1])
            second = read(text, join.end()) if join else None
            if join and second is not None:
                low, high = first[0], second[0]
                if low > high:
                    raise NotUnderstood(f"the range {low}–{high} runs backwards")
                return "between", [low, high], second[1]
    for op, pattern in _PREFIX_RE:
        m = pattern.match(text, pos)
        if m:
            value = read(text, m.end())
            if value is None:
                return None
            return op, value[0], value[1]
    value = read(text, pos)
    if value is None:
        return None
    for op, pattern in _SUFFIX_RE:
        m = pattern.match(text, value[1])
        if m:
            return op, value[0], m.end()
    join = _BARE_RANGE_JOIN.match(text, value[1])
    if join:
        second = read(text, join.end())
        if second is not None and second[0] >= value[0]:
            return "between", [value[0], second[0]], second[1]
    return "=", value[0], value[1]
