"""The browser sign-in end to end against a fake Google: the real google-auth-oauthlib flow,
the real loopback server, real HTTP, and each way an answer can be refused."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from minicrm_desktop.services.access.identity import Identity
from minicrm_desktop.services.auth.errors import (
    SignInCancelled,
    SignInDenied,
    SignInError,
    SignInTimedOut,
    TokenRejected,
)
from minicrm_desktop.services.auth.flow import run_browser_flow
from minicrm_desktop.services.auth.loopback import Waker

from .fake_google import CLIENT_ID, FakeGoogle, follow_in_browser


def sign_in(fake: FakeGoogle, **kwargs):
    shown: list[str] = []
    result = run_browser_flow(fake.config(), on_url=shown.append,
                              open_browser=follow_in_browser, timeout_s=20, **kwargs)
    return result, shown


def test_success_verifies_pkce_and_returns_the_identity(fake_google: FakeGoogle) -> None:
    result, shown = sign_in(fake_google)

    assert result.identity == Identity(subject="1098765", email="ana.lima@example.com",
                                       name="Ana Lima", issuer="https://accounts.google.com")
    assert result.refresh_token
    assert fake_google.pkce_results == [True]
    (request,) = fake_google.auth_requests
    assert request["code_challenge_method"] == "S256"
    assert request["client_id"] == CLIENT_ID
    assert set(request["scope"].split()) == {"openid", "email", "profile"}
    redirect = urlsplit(request["redirect_uri"])
    assert redirect.hostname == "127.0.0.1"
    assert redirect.port not in (None, 80, 8080)
    # The URL the window shows is the one the browser was sent to.
    assert parse_qs(urlsplit(shown[0]).query)["state"] == [request["state"]]


def test_each_sign_in_gets_its_own_port_state_and_verifier(fake_google: FakeGoogle) -> None:
    sign_in(fake_google)
    sign_in(fake_google)
    first, second = fake_google.auth_requests
    for key in ("redirect_uri", "state", "code_challenge"):
        assert first[key] != second[key]


def test_tampered_state_is_ignored_and_the_sign_in_waits_on(fake_google: FakeGoogle) -> None:
    fake_google.tamper_state = True
    answers: list[requests.Response] = []
    with pytest.raises(SignInTimedOut, match="1 answer that did not belong to this sign-in"):
        run_browser_flow(fake_google.config(), timeout_s=1,
                         open_browser=lambda url: answers.append(follow_in_browser(url)))
    assert answers[0].status_code == 400
    assert "does not belong to the sign-in MiniCRM is waiting for" in answers[0].text
    assert fake_google.pkce_results == []  # the code was never redeemed


@pytest.mark.parametrize(
    "stray",
    [{"state": "guessed", "error": "access_denied"}, {"state": "guessed", "code": "evil"},
     {"state": "", "code": "evil"}, {"state": "é", "code": "evil"}],
    ids=["error", "code", "empty-state", "non-ascii-state"],
)
def test_a_wrong_state_first_does_not_abort_the_sign_in(
    fake_google: FakeGoogle, stray: dict[str, str]
) -> None:
    """Any local process can call the loopback port: one that answers first with another
    state is turned away, and the real answer that follows still signs in."""
    turned_away: list[requests.Response] = []

    def browser(url: str) -> None:
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        turned_away.append(requests.get(redirect, params=stray, timeout=5))
        follow_in_browser(url)

    result = run_browser_flow(fake_google.config(), open_browser=browser, timeout_s=20)
    assert result.identity.email == "ana.lima@example.com"
    assert turned_away[0].status_code in (400, 404)  # refused (no state at all: 404)
    assert fake_google.pkce_results == [True]


def test_user_denies_consent(fake_google: FakeGoogle) -> None:
    fake_google.deny = True
    with pytest.raises(SignInDenied, match="declined in the browser"):
        sign_in(fake_google)


def test_token_endpoint_refuses_a_wrong_pkce_verifier(fake_google: FakeGoogle) -> None:
    fake_google.corrupt_challenge = True  # as if another app had stolen the code
    with pytest.raises(SignInError, match="did not accept the sign-in: Invalid code verifier"):
        sign_in(fake_google)
    assert fake_google.pkce_results == [False]


def test_timeout_when_the_browser_never_answers(fake_google: FakeGoogle) -> None:
    started = time.monotonic()
    with pytest.raises(SignInTimedOut, match=r"No answer came back .* within 0\.3 seconds"):
        run_browser_flow(fake_google.config(), open_browser=None, timeout_s=0.3)
    assert time.monotonic() - started < 10


def test_cancel_stops_waiting(fake_google: FakeGoogle) -> None:
    waker = Waker()
    # The user presses Cancel as soon as the URL is on screen.
    with pytest.raises(SignInCancelled, match="cancelled"):
        run_browser_flow(fake_google.config(), waker=waker, on_url=lambda _u: waker.cancel(),
                         open_browser=None, timeout_s=60)


def test_the_loopback_ignores_stray_requests(fake_google: FakeGoogle) -> None:
    def browser(url: str) -> None:
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        assert requests.get(redirect + "favicon.ico", timeout=5).status_code == 404
        assert requests.get(redirect, timeout=5).status_code == 404  # no state: not an answer
        follow_in_browser(url)

    result = run_browser_flow(fake_google.config(), open_browser=browser, timeout_s=20)
    assert result.identity.email == "ana.lima@example.com"


@pytest.mark.parametrize(
    ("knob", "message"),
    [
        ({"sign_with_other_key": True}, "signature does not match the keys published by Google"),
        ({"claims": {"aud": "someone-else.apps.googleusercontent.com"}}, "wrong audience"),
        ({"claims": {"iss": "https://evil.example.com"}},
         "issued by https://evil.example.com, not by Google"),
        ({"claims": {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}},
         "ID token has expired"),
        ({"claims": {"email_verified": False}},
         "ana.lima@example.com is not a verified email address at Google"),
    ],
    ids=["bad-signature", "wrong-audience", "wrong-issuer", "expired", "unverified-email"],
)
def test_bad_id_tokens_are_refused(fake_google: FakeGoogle, knob: dict, message: str) -> None:
    fake_google.sign_with_other_key = knob.get("sign_with_other_key", False)
    fake_google.claim_overrides = knob.get("claims", {})
    with pytest.raises(TokenRejected, match=message) as refused:
        sign_in(fake_google)
    assert str(refused.value).startswith("The sign-in was refused")
