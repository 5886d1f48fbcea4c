"""Who an account is: (issuer, subject), never an email alone. Invitations bind to their
first claimant; a database trusts only the providers it recorded; only a database created
empty is founded by its first sign-in. On SQLite and MariaDB."""

from __future__ import annotations

import sys
import threading

import pytest
from sqlalchemy import Engine, select, text

from minicrm_desktop.cli.main import main
from minicrm_desktop.errors import ConfigError
from minicrm_desktop.models.tables import users_table
from minicrm_desktop.services.access.actor import AccessDenied, Actor, Role
from minicrm_desktop.services.access.audit import Action
from minicrm_desktop.services.access.identity import Identity
from minicrm_desktop.services.access.trust import trusted_issuers
from minicrm_desktop.services.access.users import (
    UserError,
    add_first_admin,
    add_user,
    admit,
    allow_domain,
    session_actor,
)
from minicrm_desktop.services.auth import trust_dev_idp
from minicrm_desktop.services.core.migrate import downgrade_to, upgrade_to_head
from tests.access.conftest import audit_rows

GOOGLE = "https://accounts.google.com"
DEV_IDP = "http://127.0.0.1:8765"


def person(email: str, subject: str, issuer: str = GOOGLE, name: str = "") -> Identity:
    return Identity(subject=subject, email=email, name=name or email.split("@")[0],
                    issuer=issuer)


def account(engine: Engine, email: str) -> tuple[str | None, str | None]:
    with engine.connect() as conn:
        row = conn.execute(select(users_table.c.issuer, users_table.c.subject)
                           .where(users_table.c.email == email)).one()
    return row.issuer, row.subject


def emails(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(users_table.c.email)).scalars())


# --- accounts are (issuer, subject) -------------------------------------------------------


def test_an_invitation_binds_to_its_first_claimant(engine: Engine) -> None:
    admin = admit(engine, person("boss@company.test", "g-boss"))
    add_user(engine, "mia@company.test", role=Role.MARKETER, actor=admin)
    assert account(engine, "mia@company.test") == (None, None)  # an open invitation

    mia = admit(engine, person("mia@company.test", "g-mia"))
    assert mia.role is Role.MARKETER
    assert account(engine, "mia@company.test") == (GOOGLE, "g-mia")

    # Another Google account that shows the same address is someone else.
    with pytest.raises(AccessDenied, match="mia@company.test already belongs to another "
                                           "account"):
        admit(engine, person("mia@company.test", "g-impostor"))
    assert account(engine, "mia@company.test") == (GOOGLE, "g-mia")  # not overwritten
    refused = audit_rows(engine)[-1]
    assert (refused.action, refused.user_id) == (Action.SIGN_IN_REFUSED, None)
    assert "g-impostor" in refused.detail
    assert admit(engine, person("mia@company.test", "g-mia")).user_id == mia.user_id


def test_the_founder_cannot_be_impersonated_by_email(engine: Engine) -> None:
    """The review's attack: another account showing the admin's address signs in as the
    admin. Both issuer spellings Google uses are one provider; the subject decides."""
    boss = admit(engine, person("boss@company.test", "g-boss"))
    assert boss.role is Role.ADMIN
    for issuer in (GOOGLE, "accounts.google.com", DEV_IDP):
        with pytest.raises(AccessDenied):
            admit(engine, person("Boss@Company.test", "someone-else", issuer))
    assert emails(engine) == ["boss@company.test"]
    assert admit(engine, person("boss@company.test", "g-boss", "accounts.google.com")) == boss


def test_the_email_is_a_label_that_follows_the_account(engine: Engine) -> None:
    admin = admit(engine, person("boss@company.test", "g-boss"))
    add_user(engine, "ana@company.test", role=Role.VIEWER, actor=admin)
    add_user(engine, "taken@company.test", role=Role.VIEWER, actor=admin)
    ana = admit(engine, person("ana@company.test", "g-ana"))

    renamed = admit(engine, person("ana.lima@company.test", "g-ana"))
    assert (renamed.user_id, renamed.email, renamed.role) == (ana.user_id, "ana.lima@company.test",
                                                             Role.VIEWER)
    assert '"email_was": "ana@company.test"' in audit_rows(engine)[-1].detail
    # An address another account holds is not taken over: the label stays.
    kept = admit(engine, person("taken@company.test", "g-ana"))
    assert (kept.user_id, kept.email) == (ana.user_id, "ana.lima@company.test")
    assert account(engine, "taken@company.test") == (None, None)


def test_a_domain_member_is_bound_at_first_sign_in(engine: Engine) -> None:
    admin = admit(engine, person("boss@company.test", "g-boss"))
    allow_domain(engine, "company.test", actor=admin)
    admit(engine, person("new.hire@company.test", "g-hire"))
    assert account(engine, "new.hire@company.test") == (GOOGLE, "g-hire")
    with pytest.raises(AccessDenied, match="already belongs to another account"):
        admit(engine, person("new.hire@company.test", "g-other"))


def test_concurrent_claims_of_one_invitation_bind_it_once(engine: Engine) -> None:
    admin = admit(engine, person("boss@company.test", "g-boss"))
    add_user(engine, "shared@company.test", role=Role.MARKETER, actor=admin)
    subjects = [f"g-claimant-{i}" for i in range(5)]
    barrier = threading.Barrier(len(subjects))
    results: dict[str, Actor | BaseException] = {}

    def claim(subject: str) -> None:
        barrier.wait()
        try:
            results[subject] = admit(engine, person("shared@company.test", subject))
        except BaseException as exc:  # collected and asserted below
            results[subject] = exc

    threads = [threading.Thread(target=claim, args=(s,)) for s in subjects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [s for s, r in results.items() if isinstance(r, Actor)]
    assert len(results) == len(subjects)
    assert len(winners) == 1, results
    assert all(isinstance(r, AccessDenied) for s, r in results.items() if s not in winners)
    assert account(engine, "shared@company.test") == (GOOGLE, winners[0])


def test_a_remembered_session_is_found_by_its_subject(engine: Engine) -> None:
    boss = admit(engine, person("boss@company.test", "g-boss"))
    assert session_actor(engine, person("boss@company.test", "g-boss")) == boss
    with pytest.raises(AccessDenied, match="has no account on this database"):
        session_actor(engine, person("boss@company.test", "g-impostor"))
    with pytest.raises(AccessDenied, match="does not trust accounts from http://127.0.0.1"):
        session_actor(engine, person("boss@company.test", "g-boss", DEV_IDP))


# --- the providers a database trusts ------------------------------------------------------


def test_a_database_trusts_google_only_until_made_to_trust_the_dev_idp(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert trusted_issuers(engine) == [GOOGLE]
    # Not even the founding sign-in of an empty database gets in from an untrusted provider.
    with pytest.raises(AccessDenied, match="does not trust accounts from http://127.0.0.1:8765"):
        admit(engine, person("boss@company.test", "dev-boss", DEV_IDP))
    assert emails(engine) == []

    assert trust_dev_idp(engine, DEV_IDP + "/") == DEV_IDP
    assert trusted_issuers(engine) == [GOOGLE, DEV_IDP]
    assert admit(engine, person("boss@company.test", "dev-boss", DEV_IDP)).role is Role.ADMIN

    # A packaged release refuses the dev IdP whatever the database says.
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(AccessDenied, match="release accepts Google accounts only"):
        admit(engine, person("boss@company.test", "dev-boss", DEV_IDP))
    with pytest.raises(ConfigError, match="trusts Google accounts only"):
        trust_dev_idp(engine, "http://127.0.0.1:9999")


def test_a_database_in_use_cannot_start_trusting_the_dev_idp(engine: Engine) -> None:
    admit(engine, person("boss@company.test", "g-boss"))
    with pytest.raises(ConfigError, match="already has accounts"):
        trust_dev_idp(engine, DEV_IDP)
    with pytest.raises(ConfigError, match="must run on this computer"):
        trust_dev_idp(engine, "https://idp.example.com")
    assert trusted_issuers(engine) == [GOOGLE]


def test_init_db_trusts_the_dev_idp_when_asked(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", db_url, "init-db", "--trust-dev-idp", DEV_IDP]) == 0
    assert f"trusts the development identity provider at {DEV_IDP}" in capsys.readouterr().out
    assert trusted_issuers(engine) == [GOOGLE, DEV_IDP]


# --- founding -----------------------------------------------------------------------------


def _upgraded_from_before_users(engine: Engine) -> None:
    """The database as a release without users left it (revision 0006), with a customer,
    then upgraded by this one."""
    downgrade_to(engine, "0006")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO customers (email, email_norm, signup_date, tags_norm) "
                          "VALUES ('c@shop.example', 'c@shop.example', '2024-01-01 00:00:00', "
                          "'')"))
    upgrade_to_head(engine)


def test_an_upgraded_database_is_not_founded_by_the_first_sign_in(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    _upgraded_from_before_users(engine)
    with pytest.raises(AccessDenied, match="first@company.test may not use this MiniCRM"):
        admit(engine, person("first@company.test", "g-first"))
    assert emails(engine) == []

    # Its operator names the first admin; that person then signs in as admin.
    db_url = engine.url.render_as_string(hide_password=False)
    assert main(["--db", db_url, "users", "add", "boss@company.test", "--role", "admin",
                 "--operator"]) == 0
    assert capsys.readouterr().out == "boss@company.test may now sign in as admin\n"
    boss = admit(engine, person("boss@company.test", "g-boss"))
    assert boss.role is Role.ADMIN
    entry = next(r for r in audit_rows(engine) if r.action == Action.USER_ADD)
    assert (entry.user_email, entry.user_id) == ("operator", None)
    # Once there is an admin, the operator's way in is closed.
    assert main(["--db", db_url, "users", "add", "me@company.test", "--role", "admin",
                 "--operator"]) == 2
    assert "already has an active admin (boss@company.test)" in capsys.readouterr().err
    with pytest.raises(UserError, match="already has an active admin"):
        add_first_admin(engine, "me@company.test")
    assert main(["--db", db_url, "users", "add", "me@company.test", "--operator"]) == 2
    assert "--operator only names a first admin" in capsys.readouterr().err
    assert emails(engine) == ["boss@company.test"]


def test_an_account_from_before_issuers_keeps_its_subject(engine: Engine) -> None:
    """Accounts made before revision 0010 recorded a subject but no issuer: only that
    subject may claim them."""
    downgrade_to(engine, "0008")
    with engine.begin() as conn:
        conn.execute(text(  # the columns of revision 0008
            "INSERT INTO users (email, name, role, active, founder, subject, created_at) "
            "VALUES ('old@company.test', 'Old', 'admin', 1, 1, 'g-old', "
            "'2025-01-01 00:00:00')"))
    upgrade_to_head(engine)
    assert account(engine, "old@company.test") == (None, "g-old")
    with pytest.raises(AccessDenied, match="already belongs to another account"):
        admit(engine, person("old@company.test", "g-someone-else"))
    old = admit(engine, person("old@company.test", "g-old"))
    assert old.role is Role.ADMIN
    assert account(engine, "old@company.test") == (GOOGLE, "g-old")
    # And nobody founds it: it has data (and an admin).
    with pytest.raises(AccessDenied, match="may not use this MiniCRM"):
        admit(engine, person("new@elsewhere.test", "g-new"))
