"""`minicrm COMMAND` imports only the module registering COMMAND (cli/main.py)."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from minicrm_desktop.cli.main import COMMAND_MODULES, COMMAND_OWNERS, _owner, build_parser


def _choices(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_every_command_names_the_module_that_registers_it() -> None:
    owners: dict[str, str] = {}
    for name in COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers(dest="command")
        importlib.import_module(f"minicrm_desktop.cli.{name}").register(sub)
        owners.update(dict.fromkeys(sub.choices, name))
    assert owners == COMMAND_OWNERS


def test_the_parser_for_a_command_holds_that_module_only() -> None:
    assert _owner(["--db", "sqlite:///x.db", "import", "customers", "f.csv"]) == "data_commands"
    assert _owner(["--db", "import"]) is None  # "import" is the URL here
    assert _choices(build_parser(["import", "customers", "f.csv"])) == {
        "import", "init-db", "seed"}
    assert _choices(build_parser(["--help"])) == set(COMMAND_OWNERS)
    assert _choices(build_parser(["no-such-command"])) == set(COMMAND_OWNERS)


def test_an_import_does_not_load_the_campaign_modules() -> None:
    code = ("import sys; from minicrm_desktop.cli.main import build_parser; "
            "build_parser(['import', 'customers', 'f.csv']); "
            "print('minicrm_desktop.services.campaigns.engine' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
