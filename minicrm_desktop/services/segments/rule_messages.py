"""A rule tree's problems in a marketer's words, each kept with the place it concerns.

`parse_rule` words its problems for the contract ("rules[1].value: expected a non-empty
list of texts, got []"); the rule builder shows "Pick at least one city" beside that row
instead. The contract's text stays available (`detail`) for a tooltip or a log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ...models.rule_tree import GroupNode, Path, problem_path
from ...models.rules import MAX_CONDITIONS, MAX_DEPTH, MAX_GROUPS, RuleError
from ...models.rules_fields import FIELDS, MONEY_FIELDS, FieldType
from ...models.rules_values import MAX_LIST_VALUES, MAX_TEXT_LENGTH

#: What one value of a text field is called: (one, several).
_NOUNS = {
    "name": ("name", "names"),
    "email": ("email address", "email addresses"),
    "phone": ("phone number", "phone numbers"),
    "city": ("city", "cities"),
    "tags": ("tag", "tags"),
}
_LABELS = {
    "signup_date": "signup date", "last_visit": "last visit", "total_spend": "total spend",
    "order_count": "number of orders", "avg_order_value": "average order value",
    "first_order_date": "first order date", "last_order_date": "last order date",
}
_NODE = re.compile(r"^((?:rules\[\d+\]\.?)*)(.*)$")

EXAMPLE_DATE = "2026-05-01"


@dataclass(frozen=True)
class RuleProblem:
    path: Path  # the condition or group it concerns (the root is ())
    location: str  # the contract's place, e.g. "rules[2].rules[0].value[1]"
    message: str  # the marketer's sentence
    detail: str  # the contract's own wording


def explain_problems(error: RuleError,
                     rule: dict[str, Any] | GroupNode | None = None) -> list[RuleProblem]:
    """Each problem of `error` in plain words; `rule` (the tree that was checked, as JSON
    or the builder's tree) tells which field a value belongs to."""
    data = rule.to_json(root=True) if isinstance(rule, GroupNode) else rule
    return [explain_problem(p, data) for p in error.problems]


def explain_problem(problem: str, rule: dict[str, Any] | None = None) -> RuleProblem:
    location, _, text = problem.partition(": ")
    if not _:
        location, text = "", problem
    path = problem_path(problem) if _ else ()
    node = _node(rule, path)
    part = _NODE.match(location)
    sub = part.group(2) if part else ""
    message = _sentence(sub, text, node) or _as_sentence(text)
    return RuleProblem(path, location, message, text)


def _node(rule: dict[str, Any] | None, path: Path) -> dict[str, Any]:
    node: Any = rule
    for step in path:
        items = node.get("rules") if isinstance(node, dict) else None
        if not isinstance(items, list) or step >= len(items):
            return {}
        node = items[step]
    return node if isinstance(node, dict) else {}


def _label(field: str) -> str:
    return _LABELS.get(field) or _NOUNS.get(field, (field,))[0]


def _sentence(sub: str, text: str, node: dict[str, Any]) -> str | None:
    field = node.get("field")
    ftype = FIELDS.get(field) if isinstance(field, str) else None
    operator = node.get("operator")
    if sub == "field":
        return "Pick what to compare: a field such as city or total spend"
    if sub == "operator":
        if text == "missing" or text.startswith("unknown operator"):
            return "Pick a comparison"
        if isinstance(field, str):
            return (f"\u201c{operator}\u201d doesn't apply to {_label(field)}; "
                    "pick another comparison")
        return None
    if sub.startswith("value") and ftype is not None and isinstance(field, str):
        return _value_sentence(sub.removeprefix("value"), text, field, ftype, operator)
    return _limit_sentence(text)


def _value_sentence(sub: str, text: str, field: str, ftype: FieldType,
                    operator: Any) -> str | None:
    one, many = _NOUNS.get(field, (_label(field), _label(field)))
    in_list = sub.startswith("[") and operator in ("in", "notIn")
    end = {"[0]": "first", "[1]": "second"}.get(sub[:3]) if operator in (
        "between", "notBetween") else None
    if sub == ".unit":
        return "Pick days, weeks, months or years"
    if sub == ".amount":
        return "Enter how many days, weeks, months or years, as a whole number like 6"
    if operator in ("withinLast", "notWithinLast"):
        return "Enter a period, like 6 months"
    if operator in ("between", "notBetween") and (
            text == "missing" or text.startswith("expected a list of two")):
        return ("Enter a start and an end date, like 2026-01-01 and 2026-01-31"
                if ftype is FieldType.DATETIME else "Enter both ends of the range, like 100 "
                "and 500")
    if text.startswith("low end is after"):
        return "The start date must be on or before the end date"
    if text.startswith("low end is greater"):
        return "The first number must not be larger than the second"
    if text.startswith("text longer than"):
        return f"Shorten this to {MAX_TEXT_LENGTH:,} characters or fewer"
    if "NUL character" in text or "lone surrogate" in text:
        return "Remove the invisible character from this text"
    if text.startswith("more than") and "values in one list" in text:
        return f"Pick at most {MAX_LIST_VALUES:,} {many}"
    if ftype in (FieldType.STRING, FieldType.TAGS):
        if operator in ("in", "notIn") and not in_list:
            return f"Pick at least one {one}"
        if in_list:
            return f"Remove the empty {one} from the list"
        return f"Enter a {one}, or choose \u201cis empty\u201d to find customers without one"
    if ftype is FieldType.BOOLEAN:
        return "Choose yes or no"
    if ftype is FieldType.DATETIME:
        which = f"the {'start' if end == 'first' else 'end'} date" if end else "a date"
        return f"Enter {which} like {EXAMPLE_DATE}"
    if text.startswith("number out of range"):
        return "Enter a smaller number (at most 1,000,000,000,000)"
    if text.startswith("expected an amount with at most 2 decimals"):
        return "Enter an amount with at most 2 decimals, like 499.99"
    prefix = f"For the {end} value, e" if end else "E"
    if ftype is FieldType.INTEGER:
        return f"{prefix}nter a whole number, like 3"
    if field in MONEY_FIELDS:
        return f"{prefix}nter an amount, like 5000"
    return f"{prefix}nter a number, like 10"


def _limit_sentence(text: str) -> str | None:
    if text.startswith("groups nested more than"):
        return f"Too many groups inside one another (at most {MAX_DEPTH}); simplify the segment"
    if text.startswith(f"more than {MAX_CONDITIONS} conditions"):
        return f"Too many conditions (at most {MAX_CONDITIONS:,}); split the segment"
    if text.startswith(f"more than {MAX_GROUPS} groups"):
        return f"Too many groups (at most {MAX_GROUPS:,}); simplify the segment"
    if "list values in one rule tree" in text:
        return "Too many listed values in this segment; split it"
    if "newer than this app understands" in text:
        return "This segment was made by a newer MiniCRM; update the app to use it"
    return None


def _as_sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] if text else "Something is wrong here"
