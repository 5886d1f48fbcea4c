"""An editable rule tree for the rule builder (Qt-free).

`RuleGroup`/`Condition` are frozen and validated; an editor needs nodes it can change one
at a time, including into states the contract refuses (an empty value while the user is
typing). So the builder edits these plain nodes and asks `validate()` — which runs the
contract's `parse_rule` on `to_json()` — for the typed tree or the problems, each tied back
to the node its path names.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from .rules import RULE_VERSION, RuleError, RuleGroup, parse_rule
from .rules_fields import FIELDS, NO_VALUE_OPERATORS, FieldType, operators_for

#: A node's place: the row at each level below the root (the root is `()`).
Path = tuple[int, ...]

_STEP = re.compile(r"rules\[(\d+)\]")


@dataclass(eq=False)
class ConditionNode:
    field: str
    operator: str
    value: Any = None
    parent: GroupNode | None = dataclasses.field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "operator": self.operator}
        if self.operator not in NO_VALUE_OPERATORS:
            out["value"] = self.value
        return out

    def copy(self) -> ConditionNode:
        return node_from_json(self.to_json())  # type: ignore[return-value]


@dataclass(eq=False)
class GroupNode:
    combinator: str = "and"
    negated: bool = False
    children: list[ConditionNode | GroupNode] = dataclasses.field(default_factory=list)
    parent: GroupNode | None = dataclasses.field(default=None, repr=False)

    def to_json(self, *, root: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"version": RULE_VERSION} if root else {}
        out.update(combinator=self.combinator, **{"not": self.negated})
        out["rules"] = [c.to_json() for c in self.children]
        return out

    def insert(self, row: int, node: Node) -> None:
        node.parent = self
        self.children.insert(row, node)

    def take(self, row: int) -> Node:
        node = self.children.pop(row)
        node.parent = None
        return node

    def copy(self) -> GroupNode:
        return node_from_json(self.to_json())  # type: ignore[return-value]


Node = ConditionNode | GroupNode


def node_from_json(data: dict[str, Any]) -> Node:
    """A node from contract JSON that is already known to be well-formed (parse_rule)."""
    if "rules" in data:
        group = GroupNode(str(data.get("combinator", "and")).lower(), bool(data.get("not")))
        for child in data["rules"]:
            group.insert(len(group.children), node_from_json(child))
        return group
    return ConditionNode(data["field"], data["operator"], data.get("value"))


def tree_from_rule(rule: RuleGroup | dict[str, Any]) -> GroupNode:
    """The editable tree of a rule; a dict is checked with parse_rule first (RuleError)."""
    tree = parse_rule(rule) if isinstance(rule, dict) else rule
    root = node_from_json(tree.to_json())
    assert isinstance(root, GroupNode)
    return root


def path_of(node: Node) -> Path:
    steps: list[int] = []
    while node.parent is not None:
        steps.append(node.parent.children.index(node))
        node = node.parent
    return tuple(reversed(steps))


def node_at(root: GroupNode, path: Path) -> Node:
    node: Node = root
    for row in path:
        if not isinstance(node, GroupNode):
            raise IndexError(f"no node at {path}")
        node = node.children[row]
    return node


def json_path(path: Path) -> str:
    """The contract's spelling of a path: `rules[2].rules[0]` (the root is "")."""
    return ".".join(f"rules[{row}]" for row in path)


def problem_path(problem: str) -> Path:
    """The node a RuleError problem ("rules[2].rules[0].value: ...") points at."""
    where = problem.split(":", 1)[0]
    return tuple(int(m) for m in _STEP.findall(where))


def problem_text(problem: str) -> str:
    return problem.split(": ", 1)[1] if ": " in problem else problem


def validate(root: GroupNode) -> tuple[RuleGroup | None, dict[Path, str]]:
    """The typed tree, or None and each problem keyed by the node it concerns."""
    try:
        return parse_rule(root.to_json(root=True)), {}
    except RuleError as exc:
        found: dict[Path, str] = {}
        for problem in exc.problems:
            found.setdefault(problem_path(problem), problem)
        return None, found


# --- sensible values when the field or the operator changes -------------------------------

def default_operator(field_name: str) -> str:
    ftype = FIELDS[field_name]
    if ftype is FieldType.TAGS:
        return "contains"
    if ftype in (FieldType.NUMBER, FieldType.INTEGER):
        return ">"
    if ftype is FieldType.DATETIME:
        return "withinLast"
    return "="


def default_value(field_name: str, operator: str) -> Any:
    """A value the editor starts from; text starts empty, which the contract refuses until
    the user types (the builder marks it, which is what should happen)."""
    ftype = FIELDS[field_name]
    if operator in NO_VALUE_OPERATORS:
        return None
    if operator in ("withinLast", "notWithinLast"):
        return {"amount": 30, "unit": "days"}
    if operator in ("in", "notIn"):
        return []
    if ftype is FieldType.BOOLEAN:
        return True
    if ftype in (FieldType.NUMBER, FieldType.INTEGER):
        return [0, 100] if operator in ("between", "notBetween") else 0
    if ftype is FieldType.DATETIME:
        return ["2026-01-01", "2026-01-31"] if operator in ("between", "notBetween") \
            else "2026-01-01"
    return ""


def value_shape(field_name: str, operator: str) -> str:
    """Which kind of editor a value needs: none, single, range, period or list."""
    if operator in NO_VALUE_OPERATORS:
        return "none"
    if operator in ("between", "notBetween"):
        return "range"
    if operator in ("withinLast", "notWithinLast"):
        return "period"
    if operator in ("in", "notIn"):
        return "list"
    return "single"


def retarget(node: ConditionNode, field_name: str, operator: str | None = None) -> ConditionNode:
    """The condition after choosing another field or operator: the operator is kept when the
    new field offers it, and the value is kept when its shape and type still fit."""
    ops = operators_for(field_name)
    if operator is None:
        operator = node.operator if node.operator in ops else default_operator(field_name)
    same_type = FIELDS[field_name] is FIELDS[node.field]
    keep = same_type and value_shape(field_name, operator) == value_shape(node.field,
                                                                          node.operator)
    value = node.value if keep else default_value(field_name, operator)
    return ConditionNode(field_name, operator, value)
