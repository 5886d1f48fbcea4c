"""The entry point: without a command the window opens, and opening it does not pay for
the libraries only commands use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from minicrm_desktop.cli.main import _window_args

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("argv", "db", "debug"), [
    ([], None, False),
    (["--debug"], None, True),
    (["--db", "sqlite:///x.db"], "sqlite:///x.db", False),
    (["--db=sqlite:///y.db", "--debug"], "sqlite:///y.db", True),
])
def test_no_command_opens_the_window(argv: list[str], db: str | None, debug: bool) -> None:
    args = _window_args(argv)
    assert args is not None
    assert (args.db, args.debug) == (db, debug)


@pytest.mark.parametrize("argv", [
    ["segment", "count", "-"], ["--db", "sqlite:///x.db", "init-db"], ["--help"], ["-h"],
    ["--version"], ["--no-such-option"],
])
def test_a_command_or_help_goes_to_the_full_parser(argv: list[str]) -> None:
    assert _window_args(argv) is None


def test_the_window_path_imports_no_command_libraries() -> None:
    """The OpenAI client (~0.35 s) and Alembic (~0.1 s) load only when a command needs them."""
    probe = ("import sys, minicrm_desktop.cli.main as m; m._window_args([]); "
             "print(sorted(n for n in ('openai', 'alembic', 'google_auth_oauthlib', "
             "'minicrm_desktop.cli.ai_commands') if n in sys.modules))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=ROOT, timeout=120, check=True)
    assert run.stdout.strip() == "[]"
