"""`minicrm login`, `logout`, `whoami` and `dev-idp` (the development identity provider)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from minicrm_desktop.services.core.secrets import (
    SecretStore,
    default_secret_store,
    terminal_passphrase,
)

from ..errors import ConfigError
from ..services.auth.config import DEV_IDP_ENV, OAuthConfig, resolve_oauth_config
from ..services.auth.flow import DEFAULT_TIMEOUT_S
from .context import CliContext

EXIT_OK = 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    login = commands.add_parser(
        "login",
        help="sign in through the browser and remember the session",
        description="Sign in with Google (or the configured development identity provider) in "
        "your browser. The session is remembered in the system keyring, or in a file "
        "encrypted with MINICRM_SECRETS_PASSPHRASE where there is no keyring.",
    )
    login.add_argument("--no-browser", action="store_true",
                       help="only print the address to open, do not start a browser")
    login.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                       help="give up when the browser has not answered by then (default 300)")
    login.set_defaults(handler=_login)

    logout = commands.add_parser(
        "logout", help="forget the remembered session and revoke it",
        description="Delete the remembered session and revoke it at the identity provider.")
    logout.set_defaults(handler=_logout)

    whoami = commands.add_parser(
        "whoami", help="print the signed-in user and role",
        description="Print who commands run as: the signed-in user's email and role, or the "
        "local user of an embedded database without sign-in.")
    whoami.set_defaults(handler=_whoami)

    dev = commands.add_parser(
        "dev-idp",
        help="run a development identity provider for test builds",
        description="Serve Google's OAuth endpoints (account picker, token, certificates, "
        "revocation) on 127.0.0.1 with a key made at start, so MiniCRM can be tested without "
        f"real Google accounts. Point MiniCRM at it with {DEV_IDP_ENV}=URL, or with the "
        "client-secrets file it writes, and use a database created for it "
        "(`minicrm --db URL init-db --trust-dev-idp URL`): other databases refuse its "
        "accounts. Development runs from source only. Stops with Ctrl+C.",
    )
    dev.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    dev.add_argument("--client-secrets", type=Path, metavar="PATH",
                     help="where to write its client-secrets JSON "
                     "(default: dev-idp-client-secrets.json in the data folder)")
    dev.set_defaults(handler=_dev_idp)


def _config(ctx: CliContext) -> OAuthConfig:
    config = resolve_oauth_config(ctx.settings())
    if config is None:
        raise ConfigError(
            "Sign-in is not configured: set MINICRM_GOOGLE_CLIENT_SECRETS to a Google OAuth "
            f"client-secrets JSON (or choose it in Settings), or {DEV_IDP_ENV} to a "
            "development identity provider (`minicrm dev-idp`)."
        )
    return config


def _secrets() -> SecretStore:
    return default_secret_store(terminal_passphrase)


def _login(ctx: CliContext, args: argparse.Namespace) -> int:
    from ..services.access.actor import AccessDenied
    from ..services.access.trust import provider_refusal
    from ..services.auth.flow import open_system_browser
    from ..services.auth.session import admit_identity, sign_in

    config = _config(ctx)
    # Fail on an unreachable database, or one that does not trust this provider, before the
    # browser step; nobody is signed in yet.
    engine = ctx.engine(signed_in=False)
    refusal = provider_refusal(engine, config.issuers)
    if refusal is not None:
        raise AccessDenied(refusal)

    def show(url: str) -> None:
        print(f"Open this address in your browser to sign in:\n\n  {url}\n", file=sys.stderr)

    identity = sign_in(config, _secrets(), on_url=show,
                       open_browser=None if args.no_browser else open_system_browser,
                       timeout_s=args.timeout)
    actor = admit_identity(engine, identity)
    print(f"signed in as {actor.email} ({actor.role.value})")
    return EXIT_OK


def _logout(ctx: CliContext, _args: argparse.Namespace) -> int:
    from ..services.auth.session import sign_out

    try:
        config: OAuthConfig | None = _config(ctx)
    except ConfigError:
        config = None  # still forget whatever is remembered
    print(sign_out(config, _secrets()))
    return EXIT_OK


def _whoami(ctx: CliContext, _args: argparse.Namespace) -> int:
    actor = ctx.actor()
    if actor.user_id is None:
        print(f"{actor.email} ({actor.role.value}): local mode, no sign-in")
    else:
        print(f"{actor.email} ({actor.role.value})")
    return EXIT_OK


def _dev_idp(_ctx: CliContext, args: argparse.Namespace) -> int:
    from minicrm_desktop.services.core.paths import data_dir

    from ..packaged import is_packaged
    from ..services.auth.config import PACKAGED_GOOGLE_ONLY
    from ..services.auth.dev_idp import TEST_ACCOUNTS, DevIdentityProvider

    if is_packaged():
        raise ConfigError(PACKAGED_GOOGLE_ONLY)
    try:
        idp = DevIdentityProvider(args.port)
    except OSError as exc:
        raise ConfigError(f"Cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}. "
                          f"Choose another port with --port.") from None
    path = idp.write_client_secrets(args.client_secrets or
                                    data_dir() / "dev-idp-client-secrets.json")
    accounts = ", ".join(email for email, _ in TEST_ACCOUNTS)
    print(f"Development identity provider on {idp.base_url} (test accounts: {accounts}).")
    print(f"Client-secrets JSON: {path}")
    print("Use it from MiniCRM with either of:")
    print(f"  export {DEV_IDP_ENV}={idp.base_url}")
    print(f"  export MINICRM_GOOGLE_CLIENT_SECRETS={path}")
    print(f"with a database created for it, before anyone signs in:\n"
          f"  minicrm --db URL init-db --trust-dev-idp {idp.base_url}")
    print("Its key lives in memory only: tokens it issued stop working when it stops. "
          "Ctrl+C stops it.", flush=True)
    try:
        idp.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        idp.close()
    return EXIT_OK
