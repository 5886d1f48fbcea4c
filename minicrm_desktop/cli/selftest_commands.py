"""`minicrm selftest`: check that this installation (or packaged build) can start."""

from __future__ import annotations

import argparse

from .context import CliContext


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    selftest = commands.add_parser(
        "selftest",
        help="check that the app can start here: database, fonts, icons, TLS, keyring",
        description="Create and migrate a scratch database, render the main window offscreen "
        "and check that its text shows, load the icons, open a TLS context, find the keyring "
        "backend and load the MySQL driver. Prints one line per check (ok or FAIL); exit "
        "status 0 when all pass, 1 otherwise. Touches none of your data. The packaged app "
        "runs the same checks with `MiniCRM --selftest`.",
    )
    selftest.set_defaults(handler=_selftest)


def _selftest(_ctx: CliContext, _args: argparse.Namespace) -> int:
    from ..selftest import run_selftest  # imports Qt; only this command needs it

    return run_selftest()
