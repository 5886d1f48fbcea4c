"""What the entry point (`python -m minicrm_desktop`, the packaged app) does before the
command line runs: the packaged app's own flags, and its certificate store."""

from __future__ import annotations

import faulthandler
import gc
import os
import sys

_gc_paused = False


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


def pause_gc_for_start() -> None:
    """Turn the cyclic garbage collector off while the app starts. Start-up creates some
    hundreds of thousands of long-lived objects (modules, classes, Qt wrappers), and the
    collector would walk them again and again: about a tenth of the CPU time to the first
    paint. `resume_gc()` turns it back on (the window once painted, a command at once)."""
    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True


def resume_gc() -> None:
    """Undo `pause_gc_for_start()` (nothing if it did not pause the collector). What
    start-up made is moved out of the collector's sight first (`gc.freeze`): it lives as
    long as the process, and later full collections then need not walk it, which keeps
    their pauses of the GUI thread short."""
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.freeze()
        gc.enable()
