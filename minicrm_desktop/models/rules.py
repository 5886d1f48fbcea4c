"""The segment rule tree (see spec/segment-rules.md): typed, validated, serialisable.

`parse_rule` is the one way in: it checks a JSON document against the contract and returns
a `RuleGroup`, or raises `RuleError` whose message names each problem by its path, like
`rules[2].rules[0].value: expected a number, got "abc"`. The validator walks the document
itself, so messages follow the contract and the limits below are checked before descending
(a hostile tree is refused long before it could exhaust the stack). The pydantic models
are the typed result and the source of the JSON Schema handed to the AI parser; build trees
from JSON with `parse_rule`, not `RuleGroup.model_validate`, which knows none of the rules.

`dump_rule` and `load_rule` are the one way a tree becomes text and back (the database,
files, the clipboard, the CLI): the contract's JSON, never pydantic's field names.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer

from ..errors import MiniCRMError
from .rules_fields import (
    ALL_OPERATORS,
    FIELDS,
    NO_VALUE_OPERATORS,
    OPERATORS,
    FieldName,
    Operator,
)
from .rules_values import HugeInteger, ValueProblem, read_value, show

RULE_VERSION = 1
#: Groups nested inside one another, the root counting as 1.
MAX_DEPTH = 20
#: Conditions in one tree, at every level together.
MAX_CONDITIONS = 1000
#: Groups in one tree, the root included (empty groups count too).
MAX_GROUPS = 1000
#: Values in all the `in`/`notIn` lists of one tree together (each is a bound parameter).
MAX_LIST_VALUES_PER_TREE = 10_000
#: Errors listed in one message; the rest are counted.
MAX_REPORTED_ERRORS = 10

JsonValue = str | int | float | bool | None | list[Any] | dict[str, Any]


class RuleError(MiniCRMError):
    """A rule tree that breaks the contract; the message names each problem by its path."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_REPORTED_ERRORS]
        more = len(problems) - len(shown)
        text = "; ".join(shown) + (f"; and {more} more problems" if more else "")
        super().__init__(text)
        self.problems = problems


class RelativePeriod(BaseModel):
    """The value of withinLast/notWithinLast."""

    model_config = ConfigDict(frozen=True)

    amount: int = Field(ge=1)
    unit: Literal["days", "weeks", "months", "years"]


ConditionValue = str | int | float | bool | RelativePeriod | list[str | int | float] | None


class Condition(BaseModel):
    """`{"field", "operator", "value"?}`; `value` is kept exactly as given."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    field: FieldName
    operator: Operator
    value: ConditionValue = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "operator": self.operator}
        if self.operator not in NO_VALUE_OPERATORS:
            value = self.value
            out["value"] = value.model_dump() if isinstance(value, RelativePeriod) else value
        return out

    @model_serializer
    def serialize_contract(self) -> dict[str, Any]:
        # Any pydantic dump writes the contract's shape too (see RuleGroup).
        return self.to_json()


class RuleGroup(BaseModel):
    """`{"combinator": "and"|"or", "not"?: bool, "rules": [...]}`."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    combinator: Literal["and", "or"]
    negated: bool = Field(default=False, alias="not")
    rules: list[Condition | RuleGroup]
    version: int | None = Field(
        default=None, description="Written by the app on the root group: 1."
    )

    def to_json(self, *, root: bool = True) -> dict[str, Any]:
        """The tree as the contract's JSON; the root carries `"version": 1`."""
        out: dict[str, Any] = {}
        if root:
            out["version"] = RULE_VERSION
        out["combinator"] = self.combinator
        out["not"] = self.negated
        out["rules"] = [
            r.to_json(root=False) if isinstance(r, RuleGroup) else r.to_json() for r in self.rules
        ]
        return out

    @model_serializer
    def serialize_contract(self) -> dict[str, Any]:
        # model_dump/model_dump_json write the contract too: a field-name dump once stored
        # "negated" where readers expect "not", and campaigns silently lost their NOT.
        return self.to_json()


def match_all() -> RuleGroup:
    """The empty tree: every customer."""
    return RuleGroup(combinator="and", rules=[])


def parse_rule(data: Any) -> RuleGroup:
    """Validate a JSON document (already decoded) against the contract."""
    validator = _Validator()
    tree = validator.root(data)
    if validator.problems or tree is None:
        raise RuleError(validator.problems or ["rule: not a rule tree"])
    return tree


def dump_rule(tree: RuleGroup, *, indent: int | None = None) -> str:
    """The tree as the contract's JSON text (root `"version": 1`, groups with `"not"`):
    compact for storage, or indented for people with `indent`."""
    separators = (",", ":") if indent is None else None
    return json.dumps(tree.to_json(), ensure_ascii=False, indent=indent, separators=separators)


def _integer(digits: str) -> int | HugeInteger:
    # Python's reader raises a bare ValueError past 4,300 digits; keep such a number so the
    # validator refuses it by its path.
    try:
        return int(digits)
    except ValueError:
        return HugeInteger(digits)


def load_rule(text: str, *, source: str = "the rule") -> RuleGroup:
    """Decode and validate rule JSON text; any problem, bad JSON included, is a RuleError.

    `source` names the text in messages, e.g. a file's path.
    """
    return parse_rule(decode_rule_text(text, source=source))


def decode_rule_text(text: str, *, source: str = "the rule") -> Any:
    """The JSON value of rule text, whatever it holds, or a RuleError naming `source`."""
    try:
        return json.loads(text.removeprefix("\ufeff"), parse_int=_integer)  # BOM: editors
    except json.JSONDecodeError as exc:
        raise RuleError(
            [f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
        ) from None
    except RecursionError:
        raise RuleError([f"{source}: JSON nested too deeply"]) from None
    except ValueError as exc:  # any other limit of the reader
        raise RuleError([f"{source} cannot be read: {exc}"]) from None


class _Validator:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.conditions = 0
        self.groups = 0
        self.list_values = 0
        self.too_many = False

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path or 'rule'}: {message}")

    def root(self, data: Any) -> RuleGroup | None:
        if not isinstance(data, dict):
            self.fail(
                "",
                f'expected a group object like {{"combinator": "and", '
                f'"rules": [...]}}, got {show(data)}',
            )
            return None
        version = data.get("version")
        if version is not None:
            if isinstance(version, bool) or not isinstance(version, int) or version < 1:
                self.fail("version", f"expected {RULE_VERSION}, got {show(version)}")
            elif version > RULE_VERSION:
                self.fail(
                    "version",
                    f"version {show(version)} is newer than this app understands "
                    f"({RULE_VERSION}); update MiniCRM",
                )
        return self.group(data, "", 1)

    def group(self, data: dict[str, Any], path: str, depth: int) -> RuleGroup | None:
        prefix = f"{path}." if path else ""
        if depth > MAX_DEPTH:
            self.fail(path, f"groups nested more than {MAX_DEPTH} deep")
            return None
        self.groups += 1
        if self.groups > MAX_GROUPS:
            self.fail(path, f"more than {MAX_GROUPS} groups in one rule tree")
            self.too_many = True
            return None
        combinator = data.get("combinator", "and")  # absent means "and"
        if not isinstance(combinator, str) or combinator.lower() not in ("and", "or"):
            self.fail(prefix + "combinator", f'expected "and" or "or", got {show(combinator)}')
            combinator = None
        negated = data.get("not", False)
        if not isinstance(negated, bool):
            self.fail(prefix + "not", f"expected true or false, got {show(negated)}")
        if "rules" not in data:
            self.fail(prefix + "rules", "missing")
            return None
        items = data["rules"]
        if not isinstance(items, list):
            self.fail(prefix + "rules", f"expected a list of rules, got {show(items)}")
            return None
        rules: list[Condition | RuleGroup] = []
        for index, item in enumerate(items):
            if self.too_many:
                break
            item_path = f"{prefix}rules[{index}]"
            if isinstance(item, dict) and "rules" in item:
                sub = self.group(item, item_path, depth + 1)
                if sub is not None:
                    rules.append(sub)
            elif isinstance(item, dict) and "field" in item:
                cond = self.condition(item, item_path)
                if cond is not None:
                    rules.append(cond)
            else:
                self.fail(
                    item_path,
                    'expected a condition {"field", "operator", "value"} or a group '
                    f'{{"combinator", "rules"}}, got {show(item)}',
                )
        if self.problems:
            return None
        return RuleGroup(
            combinator=combinator.lower() if isinstance(combinator, str) else "and",
            negated=bool(negated),
            rules=rules,
        )

    def condition(self, data: dict[str, Any], path: str) -> Condition | None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            self.fail(path, f"more than {MAX_CONDITIONS} conditions in one rule tree")
            self.too_many = True
            return None
        field = data["field"]
        if not isinstance(field, str) or field not in FIELDS:
            self.fail(
                f"{path}.field",
                f"unknown field {show(field)}; expected one of {', '.join(FIELDS)}",
            )
            return None
        ftype = FIELDS[field]
        if "operator" not in data:
            self.fail(f"{path}.operator", "missing")
            return None
        operator = data["operator"]
        if not isinstance(operator, str) or operator not in ALL_OPERATORS:
            self.fail(f"{path}.operator", f"unknown operator {show(operator)}")
            return None
        if operator not in OPERATORS[ftype]:
            self.fail(
                f"{path}.operator",
                f'"{operator}" is not an operator of {ftype.value} field "{field}"',
            )
            return None
        present = "value" in data
        value = data.get("value")
        try:
            read_value(field, ftype, operator, value, present)
        except ValueProblem as exc:
            self.fail(f"{path}.value{exc.subpath}", exc.message)
            return None
        if isinstance(value, list) and operator in ("in", "notIn"):
            self.list_values += len(value)
            if self.list_values > MAX_LIST_VALUES_PER_TREE:
                self.fail(
                    f"{path}.value",
                    f"more than {MAX_LIST_VALUES_PER_TREE} list values in one rule tree",
                )
                self.too_many = True
                return None
        if operator in NO_VALUE_OPERATORS:
            value = None
        elif isinstance(value, dict):
            value = RelativePeriod(amount=value["amount"], unit=value["unit"])
        # Checked against the field and operator tables just above.
        return Condition.model_construct(field=field, operator=operator, value=value)  # type: ignore[arg-type]


def rule_json_schema(*, strict: bool = False) -> dict[str, Any]:
    """The JSON Schema of a rule tree, generated from the models.

    `strict=True` shapes it for structured-output APIs (OpenAI's strict mode): every object
    closed, every property required (optional ones nullable), no defaults.
    """
    schema = RuleGroup.model_json_schema(by_alias=True)
    if strict:
        # The root must be an object schema itself, not a reference.
        defs = schema.pop("$defs")
        schema = {**copy.deepcopy(defs["RuleGroup"]), "$defs": defs}
        _make_strict(schema)
    return schema


def _make_strict(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _make_strict(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "object" and "properties" in node:
        required = set(node.get("required", []))
        for key, prop in node["properties"].items():
            # A non-null default (like "not": false) becomes a plain required property.
            if prop.pop("default", None) is None and key not in required and not _allows_null(prop):
                node["properties"][key] = {"anyOf": [prop, {"type": "null"}]}
        node["required"] = list(node["properties"])
        node["additionalProperties"] = False
    for value in list(node.values()):
        _make_strict(value)


def _allows_null(prop: dict[str, Any]) -> bool:
    if prop.get("type") == "null":
        return True
    return any(option.get("type") == "null" for option in prop.get("anyOf", []))
