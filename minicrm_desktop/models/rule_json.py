"""Decoding a rule tree's JSON text: whatever the text holds, a value or a RuleError.

Python's reader raises a bare ValueError for an integer of more than 4,300 digits; such
numbers are kept as `HugeInteger`, so the validator refuses them by their path.
"""

from __future__ import annotations

import json
from typing import Any

from .rules import RuleError
from .rules_values import HugeInteger


def _integer(digits: str) -> int | HugeInteger:
    try:
        return int(digits)
    except ValueError:
        return HugeInteger(digits)


def decode_rule_json(text: str, source: str) -> Any:
    """The JSON value of `text` (read from `source`, named in messages)."""
    try:
        return json.loads(text, parse_int=_integer)
    except json.JSONDecodeError as exc:
        raise RuleError(
            [f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
        ) from None
    except RecursionError:
        raise RuleError([f"{source}: JSON nested too deeply"]) from None
    except ValueError as exc:  # any other limit of the reader
        raise RuleError([f"{source} cannot be read: {exc}"]) from None
