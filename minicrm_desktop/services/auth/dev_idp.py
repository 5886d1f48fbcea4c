"""A development identity provider: Google's OAuth endpoints on 127.0.0.1, for test builds.

`minicrm dev-idp` runs it so support staff can sign in without real Google accounts. It
serves what the real flow uses — authorization (an account picker), token (authorization
code with PKCE S256, and refresh), the signing certificates (Google's v1/certs format, and a
JWKS), and revocation — so the sign-in code runs against it unchanged. Its RSA key is made
at start and lives only in memory: a restart invalidates every token it issued.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from minicrm_desktop.services.core.local_http import LocalServer, QuietHandler

from .config import DEV_CLIENT_ID, DEV_CLIENT_SECRET, is_loopback

ID_TOKEN_LIFETIME_S = 3600
CODE_LIFETIME_S = 300

#: The accounts the picker offers; any other email can be typed in.
TEST_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("admin@example.com", "Asha Admin"),
    ("marketer@example.com", "Manoj Marketer"),
    ("viewer@example.com", "Vera Viewer"),
)


@dataclass
class _Grant:
    email: str
    name: str
    email_verified: bool
    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: str
    expires: float = field(default_factory=lambda: time.time() + CODE_LIFETIME_S)


class SigningKey:
    """An RSA key made now, with a self-signed certificate for the certs endpoint."""

    def __init__(self, common_name: str = "MiniCRM development identity provider") -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = secrets.token_hex(8)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )
        self.certificate_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        self.private_pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    def sign(self, claims: dict[str, Any]) -> str:
        from google.auth import crypt, jwt

        signer = crypt.RSASigner.from_string(self.private_pem, key_id=self.key_id)
        return jwt.encode(signer, claims).decode("ascii")

    def certs(self) -> dict[str, str]:
        return {self.key_id: self.certificate_pem}

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()

        def b64(n: int) -> str:
            raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

        return {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.key_id,
                          "n": b64(numbers.n), "e": b64(numbers.e)}]}


def pkce_s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class DevIdentityProvider:
    """The server. `start()` serves on a thread; `serve_forever()` blocks (the CLI)."""

    def __init__(self, port: int = 0) -> None:
        self.signing_key = SigningKey()
        self._lock = threading.Lock()
        self._pending: dict[str, dict[str, str]] = {}  # picker id → authorization request
        self._codes: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}  # refresh token → whose
        self._server = LocalServer(_handler(self), port=port, name="dev-idp")

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def issuer(self) -> str:
        return self.base_url

    def start(self) -> DevIdentityProvider:
        self._server.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def close(self) -> None:
        self._server.close()

    def client_secrets(self) -> dict[str, Any]:
        """A client-secrets JSON in Google's shape, naming this server."""
        base = self.base_url
        return {"installed": {
            "client_id": DEV_CLIENT_ID,
            "client_secret": DEV_CLIENT_SECRET,
            "auth_uri": f"{base}/authorize",
            "token_uri": f"{base}/token",
            "auth_provider_x509_cert_url": f"{base}/certs",
            "revoke_uri": f"{base}/revoke",
            "issuer": self.issuer,
            "redirect_uris": ["http://127.0.0.1"],
        }}

    def write_client_secrets(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.client_secrets(), indent=2) + "\n", encoding="utf-8")
        return path

    # --- the endpoints' logic (the handler below only speaks HTTP) ------------------------

    def authorize(self, params: dict[str, str]) -> tuple[int, str, str]:
        """(status, content type, body) for GET /authorize: the account picker."""
        problem = self._check_request(params)
        if problem:
            return 400, "text/html", _page("Bad sign-in request", f"<p>{html.escape(problem)}</p>")
        picker = secrets.token_urlsafe(16)
        with self._lock:
            self._pending[picker] = params
        return 200, "text/html", _picker_page(picker)

    def approve(self, form: dict[str, str]) -> tuple[int, str]:
        """POST /approve: (status, redirect location or error text)."""
        with self._lock:
            request = self._pending.pop(form.get("picker", ""), None)
        if request is None:
            return 400, "This sign-in page has expired; start the sign-in again in MiniCRM."
        redirect = request["redirect_uri"]
        state = request.get("state", "")
        if form.get("deny"):
            return 302, _with_query(redirect, {"error": "access_denied", "state": state})
        email = form.get("email", "").strip()
        if "@" not in email:
            return 400, "Enter an email address such as someone@example.com."
        grant = _Grant(
            email=email, name=form.get("name", "").strip() or email.split("@")[0],
            email_verified=form.get("unverified") != "1",
            client_id=request["client_id"], redirect_uri=redirect,
            code_challenge=request["code_challenge"], scope=request.get("scope", ""),
        )
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = grant
        return 302, _with_query(redirect, {"code": code, "state": state})

    def token(
        self, form: dict[str, str], basic: tuple[str, str] | None
    ) -> tuple[int, dict[str, Any]]:
        """POST /token: (status, JSON body)."""
        client_id, client_secret = basic or (form.get("client_id", ""),
                                             form.get("client_secret", ""))
        if client_id != DEV_CLIENT_ID or client_secret != DEV_CLIENT_SECRET:
            return 401, {"error": "invalid_client", "error_description": "Unknown OAuth client."}
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            with self._lock:
                grant = self._codes.pop(form.get("code", ""), None)  # codes are single-use
            if grant is None or grant.expires < time.time():
                return 400, {"error": "invalid_grant",
                             "error_description": "Unknown or used code."}
            if form.get("redirect_uri") != grant.redirect_uri:
                return 400, {"error": "invalid_grant",
                             "error_description": "redirect_uri mismatch."}
            verifier = form.get("code_verifier", "")
            if not verifier or pkce_s256(verifier) != grant.code_challenge:
                return 400, {"error": "invalid_grant",
                             "error_description": "PKCE verification failed."}
            refresh = secrets.token_urlsafe(32)
            with self._lock:
                self._refresh[refresh] = grant
            return 200, self._tokens(grant, refresh)
        if grant_type == "refresh_token":
            with self._lock:
                grant = self._refresh.get(form.get("refresh_token", ""))
            if grant is None:
                return 400, {"error": "invalid_grant",
                             "error_description": "Token has been expired or revoked."}
            return 200, self._tokens(grant, None)
        return 400, {"error": "unsupported_grant_type"}

    def revoke(self, form: dict[str, str]) -> int:
        with self._lock:
            found = self._refresh.pop(form.get("token", ""), None)
        return 200 if found is not None else 400

    def _tokens(self, grant: _Grant, refresh: str | None) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": grant.client_id, "azp": grant.client_id,
            "sub": hashlib.sha256(grant.email.lower().encode()).hexdigest()[:21],
            "email": grant.email, "email_verified": grant.email_verified, "name": grant.name,
            "iat": now, "exp": now + ID_TOKEN_LIFETIME_S,
        }
        body: dict[str, Any] = {
            "access_token": secrets.token_urlsafe(24), "token_type": "Bearer",
            "expires_in": ID_TOKEN_LIFETIME_S, "scope": grant.scope,
            "id_token": self.signing_key.sign(claims),
        }
        if refresh:
            body["refresh_token"] = refresh
        return body

    def _check_request(self, params: dict[str, str]) -> str:
        if params.get("client_id") != DEV_CLIENT_ID:
            return f"Unknown OAuth client {params.get('client_id')!r}."
        if params.get("response_type") != "code":
            return "Only response_type=code is supported."
        redirect = params.get("redirect_uri", "")
        parts = urlsplit(redirect)
        if parts.scheme != "http" or not is_loopback(parts.hostname or ""):
            return "The redirect URI must be a loopback address (http://127.0.0.1:PORT/)."
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "PKCE with code_challenge_method=S256 is required."
        if not params.get("state"):
            return "A state parameter is required."
        return ""


def _handler(idp: DevIdentityProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            params = _single(parse_qs(parts.query))
            if parts.path == "/authorize":
                status, kind, body = idp.authorize(params)
                self._send(status, kind, body.encode("utf-8"))
            elif parts.path == "/certs":
                self._json(200, idp.signing_key.certs())
            elif parts.path == "/jwks":
                self._json(200, idp.signing_key.jwks())
            elif parts.path == "/.well-known/openid-configuration":
                base = idp.base_url
                self._json(200, {
                    "issuer": idp.issuer, "authorization_endpoint": f"{base}/authorize",
                    "token_endpoint": f"{base}/token", "jwks_uri": f"{base}/jwks",
                    "revocation_endpoint": f"{base}/revoke",
                    "code_challenge_methods_supported": ["S256"],
                })
            else:
                self._send(404, "text/plain", b"not found")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = _single(parse_qs(self.rfile.read(length).decode("utf-8")))
            path = urlsplit(self.path).path
            if path == "/approve":
                status, where = idp.approve(form)
                if status == 302:
                    self.send_response(302)
                    self.send_header("Location", where)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._send(status, "text/html",
                               _page("Sign-in", f"<p>{html.escape(where)}</p>").encode())
            elif path == "/token":
                status, body = idp.token(form, self._basic())
                self._json(status, body)
            elif path == "/revoke":
                self._send(idp.revoke(form), "text/plain", b"")
            else:
                self._send(404, "text/plain", b"not found")

        def _basic(self) -> tuple[str, str] | None:
            from urllib.parse import unquote

            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return None
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            return unquote(user), unquote(password)

        def _json(self, status: int, body: Any) -> None:
            self.send_json(status, body)

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_body(status, f"{kind}; charset=utf-8", body)

    return Handler


def _single(query: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in query.items()}


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title></head><body style='font-family:sans-serif;margin:3em;max-width:38em'>"
            f"<h2>{html.escape(title)}</h2>{body}</body></html>")


def _picker_page(picker: str) -> str:
    hidden = f"<input type='hidden' name='picker' value='{html.escape(picker)}'>"
    accounts = "".join(
        f"<form method='post' action='/approve' style='margin:.4em 0'>{hidden}"
        f"<input type='hidden' name='email' value='{html.escape(email)}'>"
        f"<input type='hidden' name='name' value='{html.escape(name)}'>"
        f"<button type='submit' style='width:22em;text-align:left'>{html.escape(name)} "
        f"&lt;{html.escape(email)}&gt;</button></form>"
        for email, name in TEST_ACCOUNTS
    )
    custom = (
        f"<h3>Another account</h3><form method='post' action='/approve'>{hidden}"
        "<p><label>Email <input name='email' type='email' required></label></p>"
        "<p><label>Name <input name='name'></label></p>"
        "<p><label><input type='checkbox' name='unverified' value='1'> "
        "email address not verified</label></p>"
        "<button type='submit'>Sign in</button></form>"
        f"<form method='post' action='/approve' style='margin-top:2em'>{hidden}"
        "<input type='hidden' name='deny' value='1'>"
        "<button type='submit'>Deny access</button></form>"
    )
    return _page("Choose an account",
                 "<p>MiniCRM development identity provider — test accounts only.</p>"
                 + accounts + custom)
