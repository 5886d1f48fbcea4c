"""`minicrm COMMAND` imports only the module registering COMMAND (cli/main.py)."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine

from minicrm_desktop.cli.main import COMMAND_MODULES, COMMAND_OWNERS, _owner, build_parser
from tests.helpers import write_csv


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


def _import_loads_alembic(db: str, csv: Path) -> bool:
    code = ("import sys; from minicrm_desktop.cli.main import main; "
            f"code = main(['--db', {db!r}, 'import', 'customers', {str(csv)!r}]); "
            "print(code, 'alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    code, loaded = out.stdout.split()[-2:]
    assert code == "0", out
    return loaded == "True"


def test_a_command_on_a_current_schema_checks_it_with_one_query_not_alembic(
    tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'crm.db'}"
    csv = write_csv(tmp_path / "c.csv", "email\na@x.example\n")
    assert _import_loads_alembic(db, csv)  # a new database: Alembic creates the schema
    assert not _import_loads_alembic(db, csv)  # now current: one query says so
    engine = create_engine(db)
    try:
        with engine.begin() as conn:  # an older schema version: Alembic runs again
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0017'")
    finally:
        engine.dispose()
    assert _import_loads_alembic(db, csv)
