"""Editing a customer: the import's checks, the import's writes, roles, audit, and refusing
an edit made from a stale view (another process changed the customer meanwhile)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, AccessDenied, Actor, Role
from minicrm_desktop.services.customers.edits import (
    CustomerChanges,
    CustomerEditError,
    CustomerNotFound,
    StaleCustomer,
    edit_customer,
    read_customer,
)
from minicrm_desktop.services.importing import import_customers
from minicrm_desktop.services.segments import count_audience, iter_audience_ids
from tests.helpers import assert_tags_consistent, snapshot, write_csv
from tests.segments.conftest import AS_OF, PROPERTY_SETTINGS
from tests.segments.population import Person, insert_people
from tests.segments.reference import matches
from tests.segments.strategies import TAGS, TEXTS, trees

from .conftest import audit_entries


def count(engine: Engine, rule: dict[str, Any]) -> int:
    return count_audience(engine, parse_rule(rule), as_of=AS_OF)


def city_is(city: str) -> dict[str, Any]:
    return {"rules": [{"field": "city", "operator": "=", "value": city}]}


def test_an_edit_writes_what_importing_the_same_values_writes(
        imported: Engine, tmp_path: Path) -> None:
    engine = imported
    result = edit_customer(engine, "ASHA@x.in", CustomerChanges(
        name="  Asha  Rao-Iyer ", phone="", city="Bengaluru", tags=[" Gold ", "vip", "VIP"],
        subscribed=False), actor=LOCAL_ADMIN)
    assert result.changed == ("name", "phone", "city", "tags", "subscribed")
    assert result.customer.name == "Asha  Rao-Iyer"
    assert result.customer.phone is None
    assert result.customer.tags == ("Gold", "VIP")
    edited = snapshot(engine)
    # Importing the edited values over it changes nothing: the edit wrote the import's way.
    import_customers(engine, write_csv(tmp_path / "same.csv",
                                       "email,name,phone,city,subscribed,tags\n"
                                       "asha@x.in,Asha  Rao-Iyer,,Bengaluru,no,gold|vip\n"),
                     actor=LOCAL_ADMIN)
    assert snapshot(engine) == edited
    assert_tags_consistent(engine)


def test_edited_customers_are_found_by_rules_like_imported_ones(imported: Engine) -> None:
    engine = imported
    assert count(engine, city_is("bengaluru")) == 0
    for email in ("ravi@x.in", "kiran@x.in"):
        edit_customer(engine, email, CustomerChanges(city="BENGALURU"), actor=LOCAL_ADMIN)
    assert count(engine, city_is("Bengaluru")) == 2
    assert count(engine, city_is("Mumbai")) == 0
    edit_customer(engine, "zoe@x.in", CustomerChanges(tags=["Diwali"], subscribed=True),
                  actor=LOCAL_ADMIN)
    assert count(engine, {"rules": [{"field": "tags", "operator": "contains",
                                     "value": " DIWALI "}]}) == 1
    assert count(engine, {"rules": [{"field": "subscribed", "operator": "=",
                                     "value": False}]}) == 0
    edit_customer(engine, "kiran@x.in", CustomerChanges(city="  "), actor=LOCAL_ADMIN)
    assert count(engine, {"rules": [{"field": "city", "operator": "null"}]}) == 1


@pytest.mark.parametrize(("changes", "message"), [
    (CustomerChanges(name="Asha\x00"), "name: contains a control character (U+0000)"),
    (CustomerChanges(city="Pune\nMumbai"), "city: contains a control character (U+000A)"),
    (CustomerChanges(name="x" * 256), "name: is longer than 255 characters"),
    (CustomerChanges(phone="9" * 65), "phone: is longer than 64 characters"),
    (CustomerChanges(tags=["a|b"]), "contains '|'"),
    (CustomerChanges(tags=["t" * 256]), "longer than 255 characters"),
    (CustomerChanges(tags=[f"tag{i:04d}" for i in range(300)]), "more than 2000 characters"),
])
def test_bad_values_are_refused_by_name_and_nothing_is_written(
        imported: Engine, changes: CustomerChanges, message: str) -> None:
    before = snapshot(imported)
    with pytest.raises(CustomerEditError, match=re.escape(message)):
        edit_customer(imported, "asha@x.in", changes, actor=LOCAL_ADMIN)
    assert snapshot(imported) == before


def test_text_is_stored_in_nfc(imported: Engine) -> None:
    edit_customer(imported, "ravi@x.in", CustomerChanges(city="Sa\u0303o Paulo"),
                  actor=LOCAL_ADMIN)
    assert read_customer(imported, "ravi@x.in").city == "S\u00e3o Paulo"
    assert count(imported, city_is("SÃO PAULO")) == 1


def test_unknown_customer(imported: Engine) -> None:
    with pytest.raises(CustomerNotFound, match="no customer nobody@x.in"):
        edit_customer(imported, "nobody@x.in", CustomerChanges(city="Pune"), actor=LOCAL_ADMIN)


def test_no_change_writes_and_audits_nothing(imported: Engine) -> None:
    result = edit_customer(imported, "ravi@x.in", CustomerChanges(city="Mumbai",
                           tags=["NEWSLETTER"]), actor=LOCAL_ADMIN)
    assert result.changed == ()
    assert audit_entries(imported, "customer.edit") == []


def test_roles_and_audit(imported: Engine, team: dict[Role, Actor]) -> None:
    engine = imported
    with pytest.raises(AccessDenied, match="Viewers can't edit customers"):
        edit_customer(engine, "ravi@x.in", CustomerChanges(city="Goa"),
                      actor=team[Role.VIEWER])
    assert read_customer(engine, "ravi@x.in").city == "Mumbai"
    edit_customer(engine, "ravi@x.in", CustomerChanges(city="Goa"), actor=team[Role.MARKETER])
    edit_customer(engine, "ravi@x.in", CustomerChanges(subscribed=False),
                  actor=team[Role.ADMIN])
    entries = audit_entries(engine, "customer.edit")
    assert [(e["by"], e["email"], e["changed"]) for e in entries] == [
        ("marketer@crm.example", "ravi@x.in", ["city"]),
        ("admin@crm.example", "ravi@x.in", ["subscribed"])]


OTHER_PROCESS = """
import sys
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.customers.edits import CustomerChanges, edit_customer
from minicrm_desktop.services.core.database import create_db_engine
engine = create_db_engine(sys.argv[1])
edit_customer(engine, "ravi@x.in", CustomerChanges(city=sys.argv[2]), actor=LOCAL_ADMIN)
"""


def _edit_in_another_process(url: str, city: str) -> None:
    subprocess.run([sys.executable, "-c", OTHER_PROCESS, url, city], check=True, timeout=120)


def test_an_edit_from_a_stale_view_is_refused(imported: Engine, db_url: str) -> None:
    engine = imported
    opened = read_customer(engine, "ravi@x.in")
    _edit_in_another_process(db_url, "Chennai")
    with pytest.raises(StaleCustomer, match=r"ravi@x.in was changed elsewhere .*\(city\)"):
        edit_customer(engine, opened.id, CustomerChanges(name="Ravi K"),
                      expected=opened.version, actor=LOCAL_ADMIN)
    now = read_customer(engine, "ravi@x.in")
    assert (now.name, now.city) == ("Ravi", "Chennai")  # the other change is kept
    # From a fresh view the same edit goes through.
    edit_customer(engine, now.id, CustomerChanges(name="Ravi K"), expected=now.version,
                  actor=LOCAL_ADMIN)
    assert read_customer(engine, "ravi@x.in").name == "Ravi K"


def test_a_tag_change_elsewhere_makes_the_view_stale(imported: Engine, tmp_path: Path) -> None:
    engine = imported
    opened = read_customer(engine, "ravi@x.in")
    import_customers(engine, write_csv(tmp_path / "t.csv", "email,tags\nravi@x.in,vip\n"),
                     actor=LOCAL_ADMIN)
    with pytest.raises(StaleCustomer, match=r"\(tags\)"):
        edit_customer(engine, opened.id, CustomerChanges(city="Goa"),
                      expected=opened.version, actor=LOCAL_ADMIN)


EDIT_CITIES = [t for t in TEXTS if t is not None]


@pytest.fixture
def people_db(engine: Engine) -> tuple[Engine, dict[int, Person]]:
    people = [Person(f"e{i}@x.in", name=f"E{i}", city="Pune", tags=["vip"] if i % 2 else [])
              for i in range(6)]
    ids = insert_people(engine, people)
    return engine, {ids[p.email]: p for p in people}


@PROPERTY_SETTINGS
@given(edits=st.lists(st.tuples(st.integers(0, 5), st.sampled_from(EDIT_CITIES),
                                st.lists(st.sampled_from(TAGS), max_size=3), st.booleans()),
                      min_size=1, max_size=4),
       tree=trees(max_leaves=4))
def test_edited_customers_match_rules_as_the_reference_says(
        people_db: tuple[Engine, dict[int, Person]], edits: list[Any],
        tree: dict[str, Any]) -> None:
    engine, people = people_db
    by_index = sorted(people)
    for index, city, tags, subscribed in edits:
        cid = by_index[index]
        edit_customer(engine, cid, CustomerChanges(city=city, tags=tags, subscribed=subscribed),
                      actor=LOCAL_ADMIN)
        person = people[cid]
        person.city = city.strip() or None
        person.tags = list({t.lower(): t for t in tags})
        person.subscribed = subscribed
    found = {i for chunk in iter_audience_ids(engine, parse_rule(tree), as_of=AS_OF)
             for i in chunk}
    assert found == {i for i, p in people.items() if matches(tree, p, AS_OF)}
