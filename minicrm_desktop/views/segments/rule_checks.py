"""Checking the builder's tree as a marketer edits it (Qt-free).

A condition still waiting for its value is *inactive*, not wrong: it is left out
(services' prune_unset) and the rest is checked by the contract. The contract's problems
are mapped back to the builder's rows (leaving a row out shifts its later siblings) and
worded for a marketer (explain_problems): "Pick at least one city".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from minicrm_desktop.models.rule_tree import (
    ConditionNode,
    GroupNode,
    Path,
    json_path,
    node_at,
    problem_path,
)
from minicrm_desktop.models.rules import RuleError, RuleGroup, parse_rule
from minicrm_desktop.services.segments.pruning import prune_unset_mapped
from minicrm_desktop.services.segments.rule_messages import explain_problems
from minicrm_desktop.views.segments.rule_labels import condition_label, group_label

_LOCATION = re.compile(r"^rules\[\d+\](?:\.rules\[\d+\])*")


@dataclass(frozen=True)
class DraftCheck:
    #: The complete rule: None while a problem or an inactive condition remains.
    rule: RuleGroup | None = None
    #: The rule without its inactive conditions, as counted: None on a problem.
    draft_rule: RuleGroup | None = None
    #: The contract's wording of each problem, keyed (and located) by the builder's rows.
    problems: dict[Path, str] = field(default_factory=dict)
    #: The same problems in a marketer's words.
    messages: dict[Path, str] = field(default_factory=dict)
    #: Conditions waiting for a value.
    inactive: frozenset[Path] = frozenset()


def check_draft(root: GroupNode) -> DraftCheck:
    data = root.to_json(root=True)
    pruned = prune_unset_mapped(data)
    inactive = frozenset(pruned.left_out)
    try:
        draft = parse_rule(pruned.rule)
    except RuleError as exc:
        problems: dict[Path, str] = {}
        for problem in exc.problems:
            where = _original_path(problem_path(problem), pruned.group_paths, inactive)
            spelled = json_path(where)
            moved = _LOCATION.sub(spelled, problem, count=1) if spelled else \
                _LOCATION.sub("", problem, count=1).lstrip(".")
            problems.setdefault(where, moved)
        explained = explain_problems(RuleError(list(problems.values())), data)
        messages = {p.path: p.message for p in explained}
        return DraftCheck(None, None, problems, messages, inactive)
    return DraftCheck(None if inactive else draft, draft, {}, {}, inactive)


def _original_path(path: Path, groups: dict[Path, Path], inactive: frozenset[Path]) -> Path:
    """Where the node at `path` of the pruned tree is in the builder's tree."""
    if path in groups:
        return groups[path]
    if not path or path[:-1] not in groups:
        return path
    parent = groups[path[:-1]]
    kept = -1
    for row in range(path[-1] + len(inactive) + 1):  # its row among those not left out
        if (*parent, row) not in inactive:
            kept += 1
            if kept == path[-1]:
                return (*parent, row)
    return path


def explain_error(error: RuleError, text: str) -> str:
    """A refused rule file's first problem in plain words, with where it is in the file
    (to fix it there): "Pick a comparison (at rules[0].operator)"."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    problems = explain_problems(error, data if isinstance(data, dict) else None)
    if not problems:
        return str(error)
    first = problems[0]
    where = f" (at {first.location})" if first.location else ""
    more = len(problems) - 1
    return first.message + where + (f"; and {more} more" if more else "")


def problem_message(root: GroupNode, check: DraftCheck, *, inactive_too: bool = False) -> str:
    """The first problem in words, naming its row: "City is one of …: Pick at least one
    city (and 1 more)". With `inactive_too`, an inactive condition counts as a problem
    (saving or launching needs every condition set)."""
    found = list(check.messages.items())
    if inactive_too:
        found += [(path, "Set a value, or delete this condition")
                  for path in sorted(check.inactive)]
    if not found:
        return ""
    path, text = found[0]
    try:
        node = node_at(root, path)
    except IndexError:
        node = root
    label = condition_label(node) if isinstance(node, ConditionNode) else \
        ("The rule" if node is root else group_label(node))
    more = len(found) - 1
    return f"{label}: {text}" + (f" (and {more} more)" if more else "")
