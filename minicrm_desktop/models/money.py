"""Money as integer minor units: the helpers live in minicrm_desktop/money.py, outside the
models package, so the views can format amounts without loading every model (importing
any module of this package first runs models/__init__.py, which imports them all)."""

from minicrm_desktop.money import (
    CURRENCY_SYMBOL,
    MINOR_PER_UNIT,
    format_money,
    minor_to_decimal,
    parse_amount,
)

__all__ = ["CURRENCY_SYMBOL", "MINOR_PER_UNIT", "format_money", "minor_to_decimal",
           "parse_amount"]
