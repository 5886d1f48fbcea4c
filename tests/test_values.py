"""Cell parsers and money: the exact rules of the import contract."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicrm_desktop.models.money import format_money, parse_amount
from minicrm_desktop.services.importing import values as v


@pytest.mark.parametrize(
    ("text", "minor"),
    [("5000", 500000), ("5000.5", 500050), ("0.05", 5), ("0", 0), ("12.34", 1234)],
)
def test_amounts(text: str, minor: int) -> None:
    assert parse_amount(text) == minor


@pytest.mark.parametrize("text", ["5,000", "₹5000", "-1", "1.234", "1e3", "", " 5", "5.", ".5"])
def test_refused_amounts(text: str) -> None:
    with pytest.raises(ValueError, match="plain amount"):
        parse_amount(text)


@given(st.integers(min_value=0, max_value=10**12))
def test_money_round_trip(minor: int) -> None:
    whole, frac = divmod(minor, 100)
    assert parse_amount(f"{whole}.{frac:02d}") == minor
    assert format_money(minor).replace("₹", "").replace(",", "") == f"{whole}.{frac:02d}"


def test_format_money() -> None:
    assert format_money(123456789) == "₹1,234,567.89"
    assert format_money(-5) == "-₹0.05"


def test_datetimes() -> None:
    assert v.parse_datetime("2026-05-01") == datetime(2026, 5, 1, tzinfo=UTC)
    assert v.parse_datetime("2026-05-01T10:00:00") == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert v.parse_datetime("2026-05-01T10:00:00Z") == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert v.parse_datetime("2026-05-01T10:00:00-02:00") == datetime(2026, 5, 1, 12, tzinfo=UTC)
    # Fractions of a second are dropped (data-and-cli.md).
    assert v.parse_timestamp("2026-05-01T10:00:00.5+05:30") == "2026-05-01 04:30:00.000000"
    with pytest.raises(ValueError, match="ISO 8601"):
        v.parse_datetime("01/05/2026")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("YES", True),
        ("1", True),
        ("", True),
        ("False", False),
        ("no", False),
        ("0", False),
    ],
)
def test_booleans(text: str, value: bool) -> None:
    assert v.parse_bool(text) is value


def test_emails_and_tags() -> None:
    assert v.parse_email(" A@Example.com ") == "A@Example.com"
    for bad in ["", "a", "a@b", "a b@c.com", "@c.com"]:
        with pytest.raises(ValueError, match="required|look like an email"):
            v.parse_email(bad)
    assert v.parse_tags("vip| |VIP|news letter|") == ["vip", "news letter"]
