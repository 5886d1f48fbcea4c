"""One rule, one audience: every path a rule travels counts the same customers (issue 12).

A rule goes from the builder to a saved segment, from a file to the CLI, and from a segment
into a campaign, whose launch freezes the audience. Each path stores or exchanges the tree
in its own way; a campaign once lost every NOT on the way. So for random trees (every
field and operator, `not` at any depth) each path's audience is checked against the
independent reference, on SQLite and MariaDB, with one clock everywhere.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from sqlalchemy import Engine, select

from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.models.campaign import Channel, deliveries_table
from minicrm_desktop.models.rule_tree import tree_from_rule, validate
from minicrm_desktop.models.rules import RuleGroup, parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.launch import (
    CampaignDraft,
    create_campaign,
    launch_campaign,
)
from minicrm_desktop.services.segments import iter_audience_ids
from minicrm_desktop.services.segments.saved import create_segment, find_segment
from tests.examples import examples

from .conftest import AS_OF, PROPERTY_SETTINGS, cond, where
from .population import Person, insert_people
from .reference import matches
from .strategies import random_people, trees

PEOPLE = random_people(seed=20261202, n=120)
AS_OF_TEXT = AS_OF.isoformat()
_names = itertools.count(1)


@dataclass
class Crowd:
    engine: Engine
    db_url: str
    people: dict[int, Person] = field(repr=False)  # keeps hypothesis's reports readable


@pytest.fixture
def crowd(engine: Engine, db_url: str) -> Crowd:
    ids = insert_people(engine, PEOPLE)
    return Crowd(engine, db_url, {ids[p.email]: p for p in PEOPLE})


def expected(doc: dict[str, Any], people: dict[int, Person]) -> set[int]:
    return {i for i, p in people.items() if matches(doc, p, AS_OF)}


def ids_of(engine: Engine, tree: RuleGroup) -> set[int]:
    return {i for chunk in iter_audience_ids(engine, tree, as_of=AS_OF) for i in chunk}


def builder_tree(tree: RuleGroup) -> RuleGroup:
    """The tree after a trip through the rule builder's editable model."""
    back, problems = validate(tree_from_rule(tree))
    assert problems == {}
    assert back is not None
    return back


def cli_count(db_url: str, path: Path, capsys: pytest.CaptureFixture[str]) -> int:
    capsys.readouterr()
    code = cli_main(["--db", db_url, "segment", "count", str(path), "--as-of", AS_OF_TEXT],
                    actor=LOCAL_ADMIN)
    out = capsys.readouterr()
    assert code == 0, out.err
    return int(out.out)


def campaign_audience(engine: Engine, rule: RuleGroup, segment_id: int | None) -> set[int]:
    """Create and launch a campaign on `rule`; the customers its launch froze."""
    draft = CampaignDraft(name=f"Campaign {next(_names)}", channel=Channel.EMAIL, rule=rule,
                          variants=["Hi {first_name|there}"], segment_id=segment_id,
                          as_of=AS_OF)
    campaign_id = create_campaign(engine, draft, actor=LOCAL_ADMIN)
    summary = launch_campaign(engine, campaign_id, actor=LOCAL_ADMIN)
    d = deliveries_table.c
    with engine.connect() as conn:
        frozen = set(conn.execute(select(d.customer_id).where(d.campaign_id == campaign_id))
                     .scalars())
    assert summary.audience == len(frozen)
    return frozen


def every_path(crowd: Crowd, doc: dict[str, Any], tmp_path: Path,
               capsys: pytest.CaptureFixture[str]) -> dict[str, int | set[int]]:
    """The audience of `doc` by each path (the CLI gives only a count)."""
    engine, db_url = crowd.engine, crowd.db_url
    tree = parse_rule(doc)
    path = tmp_path / "rule.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    name = f"Segment {next(_names)}"
    create_segment(engine, name, tree, actor=LOCAL_ADMIN)
    saved = find_segment(engine, name)
    assert saved is not None
    return {
        "query": ids_of(engine, tree),
        "builder": ids_of(engine, builder_tree(tree)),
        "cli": cli_count(db_url, path, capsys),
        "saved segment": ids_of(engine, saved.rule),
        "campaign from the segment": campaign_audience(engine, saved.rule, saved.id),
        "campaign from the tree": campaign_audience(engine, tree, None),
    }


@settings(PROPERTY_SETTINGS, max_examples=examples(40))
@given(doc=trees(max_leaves=6))
def test_every_path_counts_what_the_rule_means(
    crowd: Crowd, doc: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    want = expected(doc, crowd.people)
    got = every_path(crowd, doc, tmp_path, capsys)
    assert got == {key: len(want) if key == "cli" else want for key in got}, doc


def test_spent_over_5000_and_not_vip(
    crowd: Crowd, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """The issue's own segment: the campaign must leave the VIPs out."""
    doc = where(cond("total_spend", ">", 5000),
                {"combinator": "and", "not": True, "rules": [cond("tags", "contains", "vip")]})
    want = expected(doc, crowd.people)
    spenders = expected(where(cond("total_spend", ">", 5000)), crowd.people)
    assert 0 < len(want) < len(spenders)  # the population has VIPs among the spenders
    got = every_path(crowd, doc, tmp_path, capsys)
    assert got == {key: len(want) if key == "cli" else want for key in got}
