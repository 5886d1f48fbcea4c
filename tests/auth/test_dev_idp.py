"""The development identity provider end to end: the real flow code against it, in process
and through the `minicrm dev-idp`, `login`, `whoami` and `logout` commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, select

from minicrm_desktop.models.tables import users_table
from minicrm_desktop.services.access.actor import AccessDenied, Role
from minicrm_desktop.services.access.identity import GOOGLE_ISSUER, Identity
from minicrm_desktop.services.auth import trust_dev_idp
from minicrm_desktop.services.auth.config import (
    dev_idp_config,
    load_client_secrets,
    resolve_oauth_config,
)
from minicrm_desktop.services.auth.dev_idp import DevIdentityProvider
from minicrm_desktop.services.auth.errors import SignInDenied, TokenRejected
from minicrm_desktop.services.auth.session import (
    admit_identity,
    restore_identity,
    sign_in,
    sign_out,
)
from minicrm_desktop.services.core.secrets import REFRESH_TOKEN, SecretStore

from .dev_browser import pick_account


@pytest.fixture
def dev_idp() -> Iterator[DevIdentityProvider]:
    idp = DevIdentityProvider().start()
    yield idp
    idp.close()


def test_sign_in_restore_and_sign_out(
    dev_idp: DevIdentityProvider, file_secrets: SecretStore, engine: Engine, tmp_path: Path,
) -> None:
    config = load_client_secrets(dev_idp.write_client_secrets(tmp_path / "client.json"))
    trust_dev_idp(engine, dev_idp.base_url)  # a database created for development
    identity = sign_in(config, file_secrets, timeout_s=20,
                       open_browser=lambda url: pick_account(url, "Admin@Example.com", "Asha"))
    assert (identity.email, identity.name, identity.issuer) == (
        "admin@example.com", "Asha", dev_idp.issuer)

    # The first account in an empty database becomes its admin; others need an invitation.
    assert admit_identity(engine, identity).role == Role.ADMIN
    stranger = sign_in(config, None, timeout_s=20,
                       open_browser=lambda url: pick_account(url, "someone@else.org"))
    with pytest.raises(AccessDenied, match="someone@else.org may not use this MiniCRM"):
        admit_identity(engine, stranger)

    assert restore_identity(config, file_secrets) == identity
    token = file_secrets.get(REFRESH_TOKEN)
    assert "revoked" in sign_out(config, file_secrets)
    # Revoked at the provider too: the old token no longer renews anything.
    answer = requests.post(config.token_uri, timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": token,
        "client_id": config.client_id, "client_secret": config.client_secret})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_a_database_that_trusts_only_google_refuses_the_dev_idps_boss(
    dev_idp: DevIdentityProvider, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review's attack: run `minicrm dev-idp` locally, point MiniCRM at it, choose
    "Another account: boss@company.test" — on a database whose admin boss@company.test
    signed in with Google."""
    boss = admit_identity(engine, Identity("g-boss", "boss@company.test", "Boss", GOOGLE_ISSUER))
    assert boss.role is Role.ADMIN
    monkeypatch.setenv("MINICRM_DEV_IDP", dev_idp.base_url)
    config = resolve_oauth_config(None)
    assert config is not None
    forged = sign_in(config, None, timeout_s=20,
                     open_browser=lambda url: pick_account(url, "boss@company.test", "Boss"))
    assert forged.email == "boss@company.test"  # the dev IdP vouches for any address...
    with pytest.raises(AccessDenied, match="does not trust accounts from http://127.0.0.1"):
        admit_identity(engine, forged)  # ...but this database does not trust the dev IdP
    with engine.connect() as conn:
        rows = conn.execute(select(users_table.c.email, users_table.c.issuer,
                                   users_table.c.subject)).all()
    assert [tuple(r) for r in rows] == [("boss@company.test", GOOGLE_ISSUER, "g-boss")]


def test_deny_and_unverified_email(dev_idp: DevIdentityProvider) -> None:
    config = dev_idp_config(dev_idp.base_url)
    with pytest.raises(SignInDenied):
        sign_in(config, None, timeout_s=20,
                open_browser=lambda url: pick_account(url, "", deny=True))
    with pytest.raises(TokenRejected, match="not a verified email address"):
        sign_in(config, None, timeout_s=20,
                open_browser=lambda url: pick_account(url, "new@example.com", unverified=True))


def test_it_refuses_requests_without_pkce(dev_idp: DevIdentityProvider) -> None:
    config = dev_idp_config(dev_idp.base_url)
    page = requests.get(config.auth_uri, timeout=10, params={
        "client_id": config.client_id, "response_type": "code", "state": "s",
        "redirect_uri": "http://127.0.0.1:9/"})
    assert page.status_code == 400
    assert "PKCE" in page.text


def _cli(*args: str, env: dict[str, str], **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "minicrm_desktop.cli.main", *args],
                            env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kwargs)  # type: ignore[call-overload]


def test_cli_commands_against_minicrm_dev_idp(sqlite_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "MINICRM_SECRETS_PASSPHRASE": "cli passphrase"}
    env.pop("MINICRM_DEV_IDP", None)
    env.pop("MINICRM_GOOGLE_CLIENT_SECRETS", None)
    server = _cli("dev-idp", "--port", "0", "--client-secrets", str(tmp_path / "c.json"),
                  env=env)
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        url = re.search(r"on (http://127\.0\.0\.1:\d+)", banner)
        assert url is not None, banner
        assert f"Client-secrets JSON: {tmp_path / 'c.json'}" in server.stdout.readline()
        env["MINICRM_GOOGLE_CLIENT_SECRETS"] = str(tmp_path / "c.json")

        # A database that trusts only Google refuses before anyone opens a browser.
        refused = _cli("--db", sqlite_url, "login", "--no-browser", "--timeout", "60", env=env)
        out, err = refused.communicate(timeout=60)
        assert refused.returncode == 3, err
        assert f"does not trust accounts from {url.group(1)}" in err
        assert "/authorize?" not in err

        init = _cli("--db", sqlite_url, "init-db", "--trust-dev-idp", url.group(1), env=env)
        out, err = init.communicate(timeout=60)
        assert init.returncode == 0, err
        assert "trusts the development identity provider" in out

        login = _cli("--db", sqlite_url, "login", "--no-browser", "--timeout", "60", env=env)
        assert login.stderr is not None
        lines = iter(login.stderr.readline, "")
        auth_url = next(line.strip() for line in lines if "/authorize?" in line)
        pick_account(auth_url, "marketer@example.com", "Manoj")
        out, err = login.communicate(timeout=60)
        assert login.returncode == 0, err
        assert out.strip() == "signed in as marketer@example.com (admin)"
        assert "sk-" not in (tmp_path / "c.json").read_text()

        whoami = _cli("--db", sqlite_url, "whoami", env=env)
        out, err = whoami.communicate(timeout=60)
        assert (whoami.returncode, out.strip()) == (0, "marketer@example.com (admin)"), err

        logout = _cli("logout", env=env)
        out, err = logout.communicate(timeout=60)
        assert logout.returncode == 0, err
        assert "revoked" in out

        whoami = _cli("--db", sqlite_url, "whoami", env=env)
        out, err = whoami.communicate(timeout=60)
        assert whoami.returncode == 3
        assert "minicrm login" in err
    finally:
        server.terminate()
        server.wait(timeout=30)
