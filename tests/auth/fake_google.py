"""A fake Google OAuth server on 127.0.0.1 for the sign-in tests.

Written independently of the app's dev IdP: it consents at once (302 back to the loopback
redirect), verifies PKCE at the token endpoint, signs ID tokens with a locally generated RSA
key and publishes it in Google's v1/certs format (certificates) and as a JWK Set (v3).
Knobs let a test break one thing at a time: the state, consent, the signature, a claim.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from minicrm_desktop.services.access.identity import GOOGLE_ISSUERS
from minicrm_desktop.services.auth.config import OAuthConfig
from minicrm_desktop.services.core.local_http import LocalServer, QuietHandler

CLIENT_ID = "1234-test.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-test-secret"


def _rsa_key() -> tuple[str, str]:
    """(private PEM, self-signed certificate PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake google")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


class FakeGoogle:
    def __init__(self) -> None:
        self.key_id = "fake-key-1"
        self.private_pem, self.cert_pem = _rsa_key()
        self.other_private_pem, _ = _rsa_key()  # for "bad signature"
        self.account = {"email": "Ana.Lima@Example.com", "name": "Ana Lima",
                        "email_verified": True, "sub": "1098765"}
        # Knobs.
        self.claim_overrides: dict[str, Any] = {}
        self.sign_with_other_key = False
        self.deny = False
        self.tamper_state = False
        self.corrupt_challenge = False
        # What it saw.
        self.auth_requests: list[dict[str, str]] = []
        self.pkce_results: list[bool] = []
        self.revoked: list[str] = []
        self._codes: dict[str, dict[str, str]] = {}
        self._refresh: set[str] = set()
        self._lock = threading.Lock()
        self._server = LocalServer(self._handler(), name="fake-google").start()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def config(self, *, jwks: bool = False) -> OAuthConfig:
        """As load_client_secrets builds it for Google, with this server's endpoints; with
        `jwks`, its keys are read as the JWK Set Google serves at oauth2/v3/certs."""
        base = self.base_url
        return OAuthConfig(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
            auth_uri=f"{base}/o/oauth2/auth", token_uri=f"{base}/token",
            certs_uri=f"{base}/oauth2/{'v3' if jwks else 'v1'}/certs",
            revoke_uri=f"{base}/revoke",
            issuers=GOOGLE_ISSUERS, source="fake google", is_google=True,
        )

    def close(self) -> None:
        self._server.close()

    # --- behaviour ---------------------------------------------------------------------

    def _authorize(self, params: dict[str, str]) -> str:
        self.auth_requests.append(params)
        redirect, state = params["redirect_uri"], params["state"]
        if self.tamper_state:
            state = state[:-2] + ("xy" if not state.endswith("xy") else "ab")
        if self.deny:
            return f"{redirect}?{urlencode({'error': 'access_denied', 'state': state})}"
        code = secrets.token_urlsafe(16)
        challenge = params.get("code_challenge", "")
        if self.corrupt_challenge:
            challenge = challenge[::-1]
        with self._lock:
            self._codes[code] = {"challenge": challenge,
                                 "method": params.get("code_challenge_method", ""),
                                 "redirect_uri": redirect}
        return f"{redirect}?{urlencode({'state': state, 'code': code, 'scope': 'openid'})}"

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self._refresh:
                return 400, {"error": "invalid_grant",
                             "error_description": "Token has been expired or revoked."}
            return 200, {"access_token": "at", "expires_in": 3600, "token_type": "Bearer",
                         "id_token": self.id_token()}
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant", "error_description": "Bad code."}
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        ok = grant["method"] == "S256" and bool(verifier) and expected == grant["challenge"]
        self.pkce_results.append(ok)
        if not ok:
            return 400, {"error": "invalid_grant",
                         "error_description": "Invalid code verifier."}
        refresh = secrets.token_urlsafe(24)
        self._refresh.add(refresh)
        return 200, {"access_token": "at", "expires_in": 3600, "token_type": "Bearer",
                     "scope": "openid email profile", "refresh_token": refresh,
                     "id_token": self.id_token()}

    def id_token(self) -> str:
        now = int(time.time())
        claims = {"iss": "https://accounts.google.com", "aud": CLIENT_ID, "azp": CLIENT_ID,
                  "iat": now, "exp": now + 3600, **self.account, **self.claim_overrides}
        pem = self.other_private_pem if self.sign_with_other_key else self.private_pem
        signer = crypt.RSASigner.from_string(pem, key_id=self.key_id)
        return jwt.encode(signer, claims).decode()

    def jwks(self) -> dict[str, Any]:
        """The public key as a JWK Set (RFC 7517), as Google's v3 endpoint serves it."""
        key = serialization.load_pem_private_key(self.private_pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        numbers = key.public_key().public_numbers()

        def b64(n: int) -> str:
            raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        return {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.key_id,
                          "n": b64(numbers.n), "e": b64(numbers.e)}]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/o/oauth2/auth":
                    self.send_response(302)
                    self.send_header("Location", fake._authorize(params))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif parts.path == "/oauth2/v1/certs":
                    self._json(200, {fake.key_id: fake.cert_pem})
                elif parts.path == "/oauth2/v3/certs":
                    self._json(200, fake.jwks())
                else:
                    self._json(404, {})

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {k: v[0] for k, v in parse_qs(body).items()}
                if self.path == "/token":
                    self._json(*fake._token(form))
                elif self.path == "/revoke":
                    fake.revoked.append(form.get("token", ""))
                    fake._refresh.discard(form.get("token", ""))
                    self._json(200, {})
                else:
                    self._json(404, {})

            def _json(self, status: int, body: Any) -> None:
                self.send_json(status, body)

        return Handler


def follow_in_browser(url: str) -> requests.Response:
    """The test's "browser": open the authorization URL and follow its redirect to the
    loopback address, as a real browser would."""
    return requests.get(url, timeout=10, allow_redirects=True)
