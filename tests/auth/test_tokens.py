"""ID-token checks on their own: times (`exp`, `iat`, `nbf`) with the clock skew, and keys
served as certificates or as a JWK Set, against the fake Google's real HTTP endpoints."""

from __future__ import annotations

import time

import pytest

from minicrm_desktop.services.auth.errors import TokenRejected
from minicrm_desktop.services.auth.tokens import CLOCK_SKEW_S, verify_id_token

from .fake_google import FakeGoogle

#: Far enough from the skew's edge that the test's own run time cannot tip a case over.
MARGIN_S = 20


def token(fake: FakeGoogle, **claims: object) -> str:
    fake.claim_overrides = dict(claims)
    return fake.id_token()


@pytest.mark.parametrize("jwks", [False, True], ids=["x509-certs", "jwks"])
def test_a_good_token_verifies_with_either_key_format(fake_google: FakeGoogle,
                                                      jwks: bool) -> None:
    identity = verify_id_token(token(fake_google), fake_google.config(jwks=jwks))
    assert (identity.email, identity.subject, identity.issuer) == (
        "ana.lima@example.com", "1098765", "https://accounts.google.com")


@pytest.mark.parametrize("jwks", [False, True], ids=["x509-certs", "jwks"])
def test_a_token_signed_with_another_key_is_refused_in_either_format(
    fake_google: FakeGoogle, jwks: bool
) -> None:
    fake_google.sign_with_other_key = True
    with pytest.raises(TokenRejected, match="signature does not match the keys published"):
        verify_id_token(fake_google.id_token(), fake_google.config(jwks=jwks))


def test_a_key_id_the_jwks_does_not_publish_is_refused(fake_google: FakeGoogle) -> None:
    fake_google.key_id = "rotated-away"  # the token names a key the set no longer has
    signed = fake_google.id_token()
    fake_google.key_id = "fake-key-1"
    with pytest.raises(TokenRejected, match="unknown key 'rotated-away'"):
        verify_id_token(signed, fake_google.config(jwks=True))


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_a_token_from_the_future_is_refused(fake_google: FakeGoogle, claim: str) -> None:
    future = int(time.time()) + 3600
    with pytest.raises(TokenRejected, match=f'not valid yet \\(its "{claim}" lies in the '
                                            f'future\\)'):
        verify_id_token(token(fake_google, **{claim: future}), fake_google.config())


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_a_little_clock_skew_is_tolerated(fake_google: FakeGoogle, claim: str) -> None:
    ahead = int(time.time()) + CLOCK_SKEW_S - MARGIN_S
    identity = verify_id_token(token(fake_google, **{claim: ahead}), fake_google.config())
    assert identity.email == "ana.lima@example.com"


def test_just_past_the_skew_is_refused(fake_google: FakeGoogle) -> None:
    beyond = int(time.time()) + CLOCK_SKEW_S + MARGIN_S
    with pytest.raises(TokenRejected, match="not valid yet"):
        verify_id_token(token(fake_google, nbf=beyond), fake_google.config(jwks=True))


def test_expiry_tolerates_the_skew_too(fake_google: FakeGoogle) -> None:
    now = int(time.time())
    config = fake_google.config()
    assert verify_id_token(token(fake_google, iat=now - 3600,
                                 exp=now - CLOCK_SKEW_S + MARGIN_S), config)
    with pytest.raises(TokenRejected, match="has expired"):
        verify_id_token(token(fake_google, iat=now - 3600, exp=now - CLOCK_SKEW_S - MARGIN_S),
                        config)


@pytest.mark.parametrize("claim", ["iat", "exp", "sub"])
def test_a_missing_claim_is_named(fake_google: FakeGoogle, claim: str) -> None:
    fake_google.claim_overrides = {}
    signed = _without(fake_google, claim)
    with pytest.raises(TokenRejected, match=f'lacks its "{claim}" claim'):
        verify_id_token(signed, fake_google.config())


def test_an_unsigned_token_is_refused(fake_google: FakeGoogle) -> None:
    import base64
    import json

    def b64(doc: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": "https://accounts.google.com", "aud": fake_google.config().client_id,
              "sub": "1", "email": "boss@company.test", "email_verified": True,
              "iat": now, "exp": now + 600}
    forged = f"{b64({'alg': 'none', 'kid': fake_google.key_id})}.{b64(claims)}."
    with pytest.raises(TokenRejected, match="The sign-in was refused"):
        verify_id_token(forged, fake_google.config())


def _without(fake: FakeGoogle, claim: str) -> str:
    """A token the fake signs properly but without `claim`."""
    from google.auth import crypt, jwt

    now = int(time.time())
    claims = {"iss": "https://accounts.google.com", "aud": fake.config().client_id,
              "iat": now, "exp": now + 3600, **fake.account}
    del claims[claim]
    signer = crypt.RSASigner.from_string(fake.private_pem, key_id=fake.key_id)
    return jwt.encode(signer, claims).decode()
