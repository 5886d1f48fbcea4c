"""The segment contract's vocabulary: fields, their types and the operators of each type.

This table is the single source of field names: the validator, the JSON Schema, the SQL
compiler and the GUI all read it, so a name that is not here never reaches a query.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class FieldType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    TAGS = "tag set"


FieldName = Literal[
    "name",
    "email",
    "phone",
    "city",
    "signup_date",
    "visits",
    "last_visit",
    "subscribed",
    "tags",
    "total_spend",
    "order_count",
    "avg_order_value",
    "first_order_date",
    "last_order_date",
]

FIELDS: dict[str, FieldType] = {
    "name": FieldType.STRING,
    "email": FieldType.STRING,
    "phone": FieldType.STRING,
    "city": FieldType.STRING,
    "signup_date": FieldType.DATETIME,
    "visits": FieldType.INTEGER,
    "last_visit": FieldType.DATETIME,
    "subscribed": FieldType.BOOLEAN,
    "tags": FieldType.TAGS,
    "total_spend": FieldType.NUMBER,
    "order_count": FieldType.INTEGER,
    "avg_order_value": FieldType.NUMBER,
    "first_order_date": FieldType.DATETIME,
    "last_order_date": FieldType.DATETIME,
}

#: Fields holding money: values have at most 2 decimals and compare in minor units.
MONEY_FIELDS = frozenset({"total_spend", "avg_order_value"})

Operator = Literal[
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "contains",
    "doesNotContain",
    "beginsWith",
    "doesNotBeginWith",
    "endsWith",
    "doesNotEndWith",
    "in",
    "notIn",
    "between",
    "notBetween",
    "withinLast",
    "notWithinLast",
    "null",
    "notNull",
]

_ORDERED = ("=", "!=", "<", "<=", ">", ">=", "between", "notBetween")

OPERATORS: dict[FieldType, tuple[str, ...]] = {
    FieldType.STRING: (
        "=",
        "!=",
        "contains",
        "doesNotContain",
        "beginsWith",
        "doesNotBeginWith",
        "endsWith",
        "doesNotEndWith",
        "in",
        "notIn",
        "null",
        "notNull",
    ),
    FieldType.NUMBER: (*_ORDERED, "null", "notNull"),
    FieldType.INTEGER: (*_ORDERED, "null", "notNull"),
    FieldType.DATETIME: (*_ORDERED, "withinLast", "notWithinLast", "null", "notNull"),
    FieldType.BOOLEAN: ("=", "!="),
    FieldType.TAGS: ("contains", "doesNotContain", "in", "notIn", "null", "notNull"),
}

ALL_OPERATORS: tuple[str, ...] = tuple(
    dict.fromkeys(op for ops in OPERATORS.values() for op in ops)
)

#: Each negative operator is evaluated as the exact complement of its positive twin.
NEGATIONS: dict[str, str] = {
    "!=": "=",
    "doesNotContain": "contains",
    "doesNotBeginWith": "beginsWith",
    "doesNotEndWith": "endsWith",
    "notIn": "in",
    "notBetween": "between",
    "notWithinLast": "withinLast",
    "notNull": "null",
}

#: The twin of every operator that has one, both ways (for tests and the GUI's "invert").
COMPLEMENTS: dict[str, str] = {**NEGATIONS, **{pos: neg for neg, pos in NEGATIONS.items()}}

NO_VALUE_OPERATORS = frozenset({"null", "notNull"})

PERIOD_UNITS = ("days", "weeks", "months", "years")


def operators_for(field: str) -> tuple[str, ...]:
    return OPERATORS[FIELDS[field]]
