"""What the entry point (`python -m minicrm_desktop`, the packaged app) does before the
command line runs: the packaged app's own flags, and its certificate store."""

from __future__ import annotations

import faulthandler
import os
import sys


def is_packaged() -> bool:
    """True in a PyInstaller release."""
    return bool(getattr(sys, "frozen", False))


def packaged_argv(argv: list[str]) -> list[str]:
    """`MiniCRM --selftest [--debug]` -> `minicrm [--debug] selftest`."""
    if "--selftest" not in argv:
        return argv
    return [arg for arg in argv if arg != "--selftest"] + ["selftest"]


def enable_crash_traces(argv: list[str]) -> None:
    """With --debug, a crash inside Qt still prints where Python was (the console debug
    build shows it)."""
    if "--debug" in argv and sys.stderr is not None:
        faulthandler.enable()


def use_certifi_without_system_store() -> None:
    """The packaged app carries the build machine's OpenSSL, which looks for CA
    certificates where that distribution keeps them (/usr/lib/ssl on Debian). On a system
    that keeps them elsewhere it would trust nobody, so TLS to MySQL, OpenAI and Google
    would fail: point OpenSSL at certifi's bundle instead. SSL_CERT_FILE set by the user
    wins."""
    if not getattr(sys, "frozen", False) or "SSL_CERT_FILE" in os.environ:
        return
    import ssl

    paths = ssl.get_default_verify_paths()  # cafile/capath are None when missing
    if paths.cafile or (paths.capath and any(os.scandir(paths.capath))):
        return
    import certifi

    os.environ["SSL_CERT_FILE"] = certifi.where()
