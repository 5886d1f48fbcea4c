"""Tagging and unsubscribing everyone in a segment: the preview's count, the action in
keyset chunks with progress, cancelling, roles, audit; and the CLI's confirmation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine

from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, AccessDenied, Actor, Role
from minicrm_desktop.services.segments import count_audience
from minicrm_desktop.services.segments.bulk_actions import (
    BulkActionError,
    preview_tag,
    preview_unsubscribe,
    tag_segment,
    unsubscribe_segment,
)
from minicrm_desktop.services.segments.saved import create_segment
from tests.helpers import assert_tags_consistent, snapshot
from tests.segments.conftest import AS_OF
from tests.segments.population import Person, insert_people

from .conftest import audit_entries

SPENDERS = {"rules": [{"field": "visits", "operator": ">=", "value": 3}]}


def count(engine: Engine, rule: dict[str, Any]) -> int:
    return count_audience(engine, parse_rule(rule), as_of=AS_OF)


@pytest.fixture
def crowd(engine: Engine) -> Engine:
    """25 customers, 10 of them with visits >= 3 (some already tagged "diwali", some
    unsubscribed)."""
    people = [Person(f"c{i:02d}@x.in", visits=i % 5, subscribed=i % 6 != 0,
                     tags=(["Diwali", "vip"] if i % 3 == 0 and i % 5 >= 3 else ["vip"]))
              for i in range(25)]
    insert_people(engine, people)
    return engine


def test_preview_counts_who_would_change(crowd: Engine) -> None:
    tree = parse_rule(SPENDERS)
    preview = preview_tag(crowd, tree, " DIWALI ", as_of=AS_OF)
    assert preview.audience == count(crowd, SPENDERS) == 10
    has_tag = {"rules": [SPENDERS["rules"][0],
                         {"field": "tags", "operator": "contains", "value": "diwali"}]}
    assert preview.affected == 10 - count(crowd, has_tag)
    subscribed = {"rules": [SPENDERS["rules"][0],
                            {"field": "subscribed", "operator": "=", "value": True}]}
    assert preview_unsubscribe(crowd, tree, as_of=AS_OF).affected == count(crowd, subscribed)


@pytest.mark.parametrize("chunk", [3, 2000])
def test_tag_everyone_in_chunks_with_progress(crowd: Engine, chunk: int) -> None:
    tree = parse_rule(SPENDERS)
    preview = preview_tag(crowd, tree, "Diwali", as_of=AS_OF)
    seen: list[tuple[int, int]] = []
    result = tag_segment(crowd, tree, " Diwali ", actor=LOCAL_ADMIN, segment="Spenders",
                         as_of=AS_OF, chunk=chunk, progress=lambda d, t: seen.append((d, t)))
    assert result.changed == preview.affected
    assert seen[-1] == (preview.affected, preview.affected)
    assert len(seen) == (-(-preview.affected // chunk) if chunk < preview.affected else 1)
    tagged = {"rules": [{"field": "tags", "operator": "contains", "value": "diwali"}]}
    in_segment_and_tagged = {"rules": [SPENDERS["rules"][0], tagged["rules"][0]]}
    assert count(crowd, in_segment_and_tagged) == preview.audience
    assert_tags_consistent(crowd)
    assert audit_entries(crowd, "segment.tag") == [
        {"by": "local", "segment": "Spenders", "tag": "Diwali", "changed": preview.affected,
         "skipped": 0, "cancelled": False}]
    # Again: nobody left to tag.
    assert tag_segment(crowd, tree, "diwali", actor=LOCAL_ADMIN, as_of=AS_OF).changed == 0


def test_unsubscribe_everyone_and_cancel_part_way(crowd: Engine) -> None:
    tree = parse_rule(SPENDERS)
    before = preview_unsubscribe(crowd, tree, as_of=AS_OF).affected
    calls = []
    result = unsubscribe_segment(crowd, tree, actor=LOCAL_ADMIN, as_of=AS_OF, chunk=2,
                                 progress=lambda d, t: calls.append(d),
                                 should_cancel=lambda: len(calls) >= 2)
    assert result.cancelled
    assert result.changed == 4
    assert preview_unsubscribe(crowd, tree, as_of=AS_OF).affected == before - 4
    result = unsubscribe_segment(crowd, tree, actor=LOCAL_ADMIN, as_of=AS_OF)
    assert result.changed == before - 4
    assert preview_unsubscribe(crowd, tree, as_of=AS_OF).affected == 0
    assert [(e["changed"], e["cancelled"]) for e in audit_entries(crowd, "segment.unsubscribe")
            ] == [(4, True), (before - 4, False)]


def test_bad_tag_is_refused(crowd: Engine) -> None:
    for bad, message in (("  ", "blank"), ("a|b", "contains '|'"), ("x\x07", "control")):
        with pytest.raises(BulkActionError, match=message):
            tag_segment(crowd, parse_rule(SPENDERS), bad, actor=LOCAL_ADMIN)


def test_viewers_cannot_act_on_a_segment(crowd: Engine, team: dict[Role, Actor]) -> None:
    before = snapshot(crowd)
    tree = parse_rule(SPENDERS)
    with pytest.raises(AccessDenied):
        tag_segment(crowd, tree, "x", actor=team[Role.VIEWER])
    with pytest.raises(AccessDenied):
        unsubscribe_segment(crowd, tree, actor=team[Role.VIEWER])
    assert snapshot(crowd) == before
    assert tag_segment(crowd, tree, "x", actor=team[Role.MARKETER]).changed == 10


# --- the command line ----------------------------------------------------------------------


def main(argv: list[str]) -> int:
    return cli_main(argv, actor=LOCAL_ADMIN)


@pytest.fixture
def saved(crowd: Engine) -> Engine:
    create_segment(crowd, "Regulars", SPENDERS, actor=LOCAL_ADMIN)
    return crowd


def test_cli_without_yes_prints_the_count_and_refuses(saved: Engine, db_url: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(saved)
    expected = preview_tag(saved, parse_rule(SPENDERS), "diwali").affected
    assert main(["--db", db_url, "segment", "tag", "regulars", "--tag", "diwali"]) == 2
    out, err = capsys.readouterr()
    assert out == f"{expected}\n"
    assert f"tag {expected} of the 10 customers in segment 'Regulars'" in err
    assert "--yes" in err
    assert main(["--db", db_url, "segment", "unsubscribe", "Regulars"]) == 2
    assert snapshot(saved) == before


def test_cli_with_yes_acts(saved: Engine, db_url: str,
                          capsys: pytest.CaptureFixture[str]) -> None:
    expected = preview_tag(saved, parse_rule(SPENDERS), "diwali").affected
    assert main(["--db", db_url, "segment", "tag", "Regulars", "--tag", "diwali",
                 "--yes"]) == 0
    out, err = capsys.readouterr()
    assert out == f"{expected}\n"
    assert f"tagged {expected} customers" in err
    assert main(["--db", db_url, "segment", "unsubscribe", "Regulars", "--yes"]) == 0
    assert count(saved, {"rules": [SPENDERS["rules"][0], {
        "field": "subscribed", "operator": "=", "value": True}]}) == 0


def test_cli_unknown_segment(saved: Engine, db_url: str,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db_url, "segment", "tag", "Nope", "--tag", "x", "--yes"]) == 2
    assert "no saved segment named 'Nope'" in capsys.readouterr().err


def test_cli_customer_edit(saved: Engine, db_url: str,
                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db_url, "customer", "edit", "C01@x.in", "--city", "Pune",
                 "--tags", "gold, VIP", "--subscribed", "no", "--name", "Chandra"]) == 0
    assert capsys.readouterr().out == "c01@x.in: changed name, city, tags, subscribed\n"
    assert count(saved, {"rules": [{"field": "city", "operator": "=", "value": "pune"},
                                   {"field": "tags", "operator": "contains", "value": "gold"},
                                   {"field": "subscribed", "operator": "=", "value": False}]}
                 ) == 1
    assert main(["--db", db_url, "customer", "edit", "c01@x.in", "--city", "Pune"]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert main(["--db", db_url, "customer", "edit", "c01@x.in", "--tags", ""]) == 0
    assert capsys.readouterr().out == "c01@x.in: changed tags\n"
    assert count(saved, {"rules": [{"field": "email", "operator": "=", "value": "c01@x.in"},
                                   {"field": "tags", "operator": "null"}]}) == 1
    entries = audit_entries(saved, "customer.edit")
    assert json.dumps(entries[0]["changed"]) == '["name", "city", "tags", "subscribed"]'


@pytest.mark.parametrize(("args", "message"), [
    (["nobody@x.in", "--city", "Pune"], "no customer nobody@x.in"),
    (["c01@x.in"], "nothing to change"),
    (["c01@x.in", "--subscribed", "maybe"], "--subscribed: expected true/false"),
    (["c01@x.in", "--name", "x" * 300], "name: is longer than 255 characters"),
])
def test_cli_customer_edit_errors(saved: Engine, db_url: str, args: list[str], message: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(saved)
    assert main(["--db", db_url, "customer", "edit", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minicrm: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert snapshot(saved) == before
