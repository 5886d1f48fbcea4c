"""How fields, operators and conditions read in the rule builder (words, not JSON)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from minicrm_desktop.models.money import CURRENCY_SYMBOL
from minicrm_desktop.models.rule_tree import ConditionNode, GroupNode
from minicrm_desktop.models.rules_fields import FIELDS, MONEY_FIELDS, FieldType

FIELD_LABELS: dict[str, str] = {
    "name": "Name", "email": "Email", "phone": "Phone", "city": "City",
    "signup_date": "Signed up", "visits": "Visits", "last_visit": "Last visit",
    "subscribed": "Subscribed", "tags": "Tags", "total_spend": "Total spend",
    "order_count": "Orders", "avg_order_value": "Average order",
    "first_order_date": "First order", "last_order_date": "Last order",
}

_COMMON = {
    "=": "is", "!=": "is not", "<": "less than", "<=": "at most", ">": "more than",
    ">=": "at least", "contains": "contains", "doesNotContain": "does not contain",
    "beginsWith": "begins with", "doesNotBeginWith": "does not begin with",
    "endsWith": "ends with", "doesNotEndWith": "does not end with", "in": "is one of",
    "notIn": "is none of", "between": "between", "notBetween": "not between",
    "withinLast": "within the last", "notWithinLast": "not within the last",
    "null": "is empty", "notNull": "is not empty",
}
# Dates and tags read better with their own words.
_DATES = {"<": "before", "<=": "on or before", ">": "after", ">=": "on or after", "=": "on",
          "!=": "not on"}
_TAGS = {"contains": "has tag", "doesNotContain": "does not have tag", "in": "has any of",
         "notIn": "has none of", "null": "has no tags", "notNull": "has some tag"}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def operator_label(field: str, operator: str) -> str:
    ftype = FIELDS.get(field)
    if ftype is FieldType.DATETIME and operator in _DATES:
        return _DATES[operator]
    if ftype is FieldType.TAGS and operator in _TAGS:
        return _TAGS[operator]
    return _COMMON.get(operator, operator)


def group_label(group: GroupNode) -> str:
    word = "ALL" if group.combinator == "and" else "ANY"
    text = f"{word} of these ({group.combinator.upper()})"
    return f"NOT — {text}" if group.negated else text


def money_text(value: Any) -> str:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{CURRENCY_SYMBOL}{amount:,.2f}"


def value_text(field: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return f"{value.get('amount', '?')} {value.get('unit', '')}".strip()
    if isinstance(value, list):
        return ", ".join(value_text(field, v) for v in value) or "…"
    if value is None or value == "":
        return "…"
    if field in MONEY_FIELDS and isinstance(value, int | float | str):
        return money_text(value)
    return str(value)


def condition_label(node: ConditionNode) -> str:
    verb = operator_label(node.field, node.operator)
    # "Has tag vip" reads better than "Tags has tag vip".
    head = verb.capitalize() if FIELDS.get(node.field) is FieldType.TAGS else \
        f"{field_label(node.field)} {verb}"
    if node.operator in ("null", "notNull"):
        return head
    if node.operator in ("between", "notBetween") and isinstance(node.value, list) \
            and len(node.value) == 2:
        low, high = (value_text(node.field, v) for v in node.value)
        return f"{head} {low} and {high}"
    return f"{head} {value_text(node.field, node.value)}"
