"""The import's shortcuts for common cells read exactly what the full readings read (issue 18).

Timestamps in the usual form (`2026-05-01T10:00:00Z`), whole numbers, yes/no cells and tag
lists each have a quick path; for every text, valid or not, it must give the same value or
refuse with the same reason as the reading it stands in for.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minicrm_desktop.models.text import tags_key
from minicrm_desktop.services.importing import values as v
from tests.examples import examples

FAST = settings(max_examples=examples(300), deadline=None, database=None)


def full_timestamp(text: str) -> str:
    """The reading parse_timestamp had before its shortcut."""
    return v._parse_utc(text).isoformat(" ", "seconds")[:19] + ".000000"


def outcome(read: Callable[[str], object], text: str) -> tuple[str, object]:
    try:
        return ("value", read(text))
    except ValueError as exc:
        return ("refused", str(exc))


digits = st.text(alphabet="0123456789", min_size=1, max_size=4)
stamps = st.builds(
    lambda y, mo, d, sep, h, mi, s, z: f"{y}-{mo}-{d}{sep}{h}:{mi}:{s}{z}",
    st.one_of(st.integers(1890, 1910), st.integers(1990, 2030), st.integers(2990, 3010),
              st.integers(0, 9999)).map("{:04d}".format),
    st.integers(0, 13).map("{:02d}".format),
    st.integers(0, 32).map("{:02d}".format),
    st.sampled_from(["T", "T", " ", "t", "_"]),
    st.integers(0, 25).map("{:02d}".format),
    st.integers(0, 61).map("{:02d}".format),
    st.integers(0, 61).map("{:02d}".format),
    st.sampled_from(["Z", "Z", "", "+05:30", ".5Z", "z", " "]),
)


@FAST
@given(stamps)
def test_timestamps_read_as_the_full_reading_does(text: str) -> None:
    assert outcome(v.parse_timestamp, text) == outcome(full_timestamp, text)


@pytest.mark.parametrize("text", ["2024-02-29T10:00:00Z", "2023-02-29T10:00:00Z",
                                  "1899-12-31T23:59:59Z", "1900-01-01 00:00:00",
                                  "2999-12-31T23:59:59Z", "3000-01-01T00:00:00Z",
                                  "2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z",
                                  "2026-04-30T24:00:00Z", "2026-04-30T23:60:00Z",
                                  "2026-04-30T23:59:60Z"])
def test_edge_days(text: str) -> None:
    assert outcome(v.parse_timestamp, text) == outcome(full_timestamp, text)


def full_int(text: str) -> int:
    value = text.strip()
    if not value:
        return 0
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"expected a whole number of 0 or more, got {v._clip(value)!r}")
    digits_ = value.lstrip("0") or "0"
    if len(digits_) > 10 or int(digits_) > v.MAX_INT32:
        raise ValueError(f"{v._clip(value)!r} is out of range (at most {v.MAX_INT32:,})")
    return int(digits_)


@FAST
@given(st.one_of(digits, st.text(alphabet="0123456789 ²٣-+", max_size=12),
                 st.integers(0, 2**32).map(str)))
def test_whole_numbers_read_as_the_full_reading_does(text: str) -> None:
    assert outcome(v.parse_nonneg_int, text) == outcome(full_int, text)


def full_bool(text: str) -> bool:
    value = text.strip().lower()
    if not value or value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise ValueError(f"expected true/false, yes/no or 1/0, got {v._clip(text)!r}")


@FAST
@given(st.one_of(st.sampled_from(["yes", "no", "", " YES", "True", "0", "1", "maybe"]),
                 st.text(alphabet="yesnotruf01 ", max_size=6)))
def test_yes_no_cells_read_as_the_full_reading_does(text: str) -> None:
    assert outcome(v.parse_bool, text) == outcome(full_bool, text)


@FAST
@given(st.lists(st.sampled_from(["vip", "VIP", " Vip ", "", "app-user", "İstanbul", "x" * 256]),
                max_size=5).map("|".join))
def test_tag_cells_give_the_labels_and_their_stored_key(text: str) -> None:
    got = outcome(v.parse_tag_cell, text)
    if got[0] == "value":
        labels, key = v.parse_tag_cell(text)
        assert labels == v.parse_tags(text)
        assert key == tags_key(labels)
        assert re.fullmatch(r"(\|[^|]+)*\|?", key)
    else:
        assert outcome(v.parse_tags, text) == got
