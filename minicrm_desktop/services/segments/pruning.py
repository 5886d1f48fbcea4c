"""Leaving conditions whose value is not set yet out of a rule tree.

While a marketer builds a segment, a new condition has no value yet; it is *inactive*:
left out of the count (and shown as such) rather than making the whole tree invalid.
Works on the contract's JSON (the rule builder's `to_json()`), which may hold such
unfinished values; the pruned tree then goes through `parse_rule` as usual.

Unset, by the shape of the value the operator takes:
- no `value` key, or `null`;
- a text (string fields, tags, dates, numbers typed as text) that is empty or blank;
- a list (`in`/`notIn`) with no element that is set; a range (`between`/`notBetween`)
  with either end unset;
- a period (`withinLast`/`notWithinLast`) whose amount is unset.
`null`/`notNull` take no value and are never unset; a number (0 included) and a boolean
are always set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...models.rule_tree import GroupNode, Path
from ...models.rules_fields import NO_VALUE_OPERATORS


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_unset(condition: dict[str, Any]) -> bool:
    """Whether a condition (as JSON) is waiting for its value."""
    operator = condition.get("operator")
    if operator in NO_VALUE_OPERATORS:
        return False
    value = condition.get("value")
    if isinstance(value, list):
        if operator in ("between", "notBetween"):
            return not value or any(_blank(end) for end in value)
        return all(_blank(item) for item in value)
    if isinstance(value, dict):
        return _blank(value.get("amount"))
    return _blank(value)


def prune_unset(rule: dict[str, Any] | GroupNode) -> tuple[dict[str, Any], list[Path]]:
    """The tree without its unset conditions, and the paths (in the given tree) of those
    left out. Groups are kept even when left empty (an empty group is ignored anyway);
    anything not shaped like a condition is kept for the validator to report."""
    pruned = prune_unset_mapped(rule)
    return pruned.rule, pruned.left_out


@dataclass(frozen=True)
class Pruned:
    rule: dict[str, Any]
    left_out: list[Path]  # paths in the given tree
    #: Where each group of the pruned tree was in the given tree (leaving a condition out
    #: shifts its later siblings), so counts can be shown beside the builder's rows.
    group_paths: dict[Path, Path]


def prune_unset_mapped(rule: dict[str, Any] | GroupNode) -> Pruned:
    data = rule.to_json(root=True) if isinstance(rule, GroupNode) else rule
    left_out: list[Path] = []
    groups: dict[Path, Path] = {}
    return Pruned(_group(data, (), (), left_out, groups), left_out, groups)


def _group(group: dict[str, Any], path: Path, new_path: Path, left_out: list[Path],
           groups: dict[Path, Path]) -> dict[str, Any]:
    groups[new_path] = path
    items = group.get("rules")
    if not isinstance(items, list):
        return group
    kept: list[Any] = []
    for index, item in enumerate(items):
        here = (*path, index)
        if isinstance(item, dict) and "rules" in item:
            kept.append(_group(item, here, (*new_path, len(kept)), left_out, groups))
        elif isinstance(item, dict) and "field" in item and is_unset(item):
            left_out.append(here)
        else:
            kept.append(item)
    return {**group, "rules": kept}
