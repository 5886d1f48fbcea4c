"""The figures a text states — numbers, percentages, amounts, dates, concrete offers — and a
check that a model's text states none its source does not.

One checker for every AI text held to facts: a campaign summary must keep exactly the
report's numbers, and a message variant may only state offers, amounts, percentages and
dates that the campaign's objective gives ("Diwali 15% offer" never becomes "up to 40% off").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|"
           "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
# "one" is left out: "one of our best customers" states no figure.
_NUMBER_WORDS = ("half|double|twice|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                 "twelve|fifteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                 "hundred|thousand|lakh|crore")
# Words that promise something concrete: a stated offer, like a number, must come from the
# objective. ("May" is left out of the months: "you may like" is not a date.)
_OFFERS = r"free|gift|voucher|coupon|cashback|cash\s+back|bogo|buy\s+one\s+get\s+one"
_WORD_FIGURE = re.compile(
    r"\b(?:" + _MONTHS.replace("may|", "") + "|" + _WEEKDAYS + "|" + _NUMBER_WORDS + "|"
    + _OFFERS + r")\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\{[a-z_]+(?=[|}])")  # a template token's name, never a figure


def numbers_in(text: str) -> list[str]:
    """The numbers written in digits, as written (commas and decimals kept), sorted."""
    return sorted(m.group(0).rstrip(".,") for m in _NUMBER.finditer(text))


def figures_in(text: str) -> Counter[str]:
    """Every figure the text states, normalised so the same figure matches however it is
    written: "5,000" is "5000", "Oct" is "oct", "buy one get one" one phrase."""
    text = _TOKEN.sub("{", text)
    found: Counter[str] = Counter(n.replace(",", "") for n in numbers_in(text))
    for m in _WORD_FIGURE.finditer(text):
        word = " ".join(m.group(0).lower().split())
        found[_ALIASES.get(word, word)] += 1
    return found


_ALIASES = {"sept": "sep", "cash back": "cashback", "bogo": "buy one get one",
            **{m: m[:3] for m in _MONTHS.split("|") if len(m) > 3}}


@dataclass(frozen=True)
class FigureCheck:
    """How a text's figures differ from its source's."""

    missing: tuple[str, ...]  # in the source, not in the text
    extra: tuple[str, ...]  # in the text, not in the source (invented)

    @property
    def same(self) -> bool:
        return not self.missing and not self.extra


def compare_figures(text: str, source: str, *, exact: bool = False) -> FigureCheck:
    """The figures of `text` against those of `source`. `exact` compares the numbers as
    written (digits, commas, decimals, as often as they occur), for texts that must repeat
    them exactly; otherwise every figure is compared normalised, each at least once."""
    if exact:
        got, want = Counter(numbers_in(text)), Counter(numbers_in(source))
        return FigureCheck(tuple(sorted((want - got).elements())),
                           tuple(sorted((got - want).elements())))
    got_set, want_set = set(figures_in(text)), set(figures_in(source))
    return FigureCheck(tuple(sorted(want_set - got_set)), tuple(sorted(got_set - want_set)))


def unsupported_figures(text: str, source: str) -> tuple[str, ...]:
    """The figures `text` states that `source` does not give (empty when it keeps to them)."""
    return compare_figures(text, source).extra
