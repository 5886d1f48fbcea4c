"""The data commands of `minicrm`: exit codes, messages and effects, as the contract says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from tests.helpers import snapshot, write_csv


def main(argv: list[str]) -> int:
    """`minicrm` as the local admin: a MariaDB database would otherwise need a sign-in,
    and these tests are about data, not roles (tests/access covers those)."""
    return cli_main(argv, actor=LOCAL_ADMIN)


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_import_all_rows_exit_0(engine: Engine, db_url: str, tmp_path: Path, capsys) -> None:
    path = write_csv(tmp_path / "c.csv", "email,name\na@example.com,A\nb@example.com,B\n")
    assert main(["--db", db_url, "import", "customers", str(path)]) == 0
    assert "customers: 2 imported, 0 updated, 0 unchanged, 0 rejected" in capsys.readouterr().out
    assert count(engine, "customers") == 2


def test_import_some_rejected_exit_1_lists_lines(
    engine: Engine, db_url: str, tmp_path: Path, capsys
) -> None:
    path = write_csv(tmp_path / "c.csv", "email\na@example.com\nbroken\nc@example.com\n")
    assert main(["--db", db_url, "import", "customers", str(path)]) == 1
    out = capsys.readouterr().out
    assert "2 imported, 0 updated, 0 unchanged, 1 rejected" in out
    assert "line 3, column email: 'broken' does not look like an email address" in out


def test_unknown_column_exit_2_writes_nothing(
    engine: Engine, db_url: str, tmp_path: Path, capsys
) -> None:
    path = write_csv(tmp_path / "c.csv", "email,favourite_colour\na@example.com,red\n")
    assert main(["--db", db_url, "import", "customers", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minicrm: error: unknown column 'favourite_colour'")
    assert err.count("\n") == 1
    assert count(engine, "customers") == 0


def test_missing_file_exit_2(sqlite_url: str, tmp_path: Path, capsys) -> None:
    assert main(["--db", sqlite_url, "import", "orders", str(tmp_path / "nope.csv")]) == 2
    assert "cannot open" in capsys.readouterr().err


def test_orders_import_twice_identical(engine: Engine, db_url: str, tmp_path: Path, capsys) -> None:
    customers = write_csv(tmp_path / "c.csv", "email\na@example.com\n")
    orders = write_csv(
        tmp_path / "o.csv",
        "order_id,customer_email,amount,order_date\n1,a@example.com,10,2025-01-01\n",
    )
    assert main(["--db", db_url, "import", "customers", str(customers)]) == 0
    assert main(["--db", db_url, "import", "orders", str(orders)]) == 0
    first = snapshot(engine)
    assert main(["--db", db_url, "import", "orders", str(orders)]) == 0
    assert snapshot(engine) == first
    assert "orders: 0 imported, 0 updated, 1 unchanged, 0 rejected" in capsys.readouterr().out


def test_seed_and_init_db(engine: Engine, db_url: str, capsys) -> None:
    assert main(["--db", db_url, "init-db"]) == 0
    assert main(["--db", db_url, "seed", "--customers", "50", "--seed", "3"]) == 0
    assert "seeded 50 customers" in capsys.readouterr().out
    assert count(engine, "customers") == 50


def test_unreachable_database_one_clear_line(capsys) -> None:
    code = main(["--db", "mysql+pymysql://root:s3cret@127.0.0.1:1/crm", "init-db"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("minicrm: error: cannot open the database (MySQL server 127.0.0.1:1/crm)")
    assert "s3cret" not in err
    assert "Traceback" not in err


def test_bad_url_and_usage_errors(capsys) -> None:
    assert main(["--db", "postgresql://x/y", "init-db"]) == 2
    assert "unsupported database 'postgresql'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["seed", "--customers", "-4"])
    assert exc.value.code == 2
    assert "must be 0 or more" in capsys.readouterr().err


def test_default_database_is_created_in_data_folder(capsys) -> None:
    assert main(["init-db"]) == 0
    out = capsys.readouterr().out
    data_home = os.environ["XDG_DATA_HOME"]
    assert f"Embedded database {data_home}" in out
    assert Path(out.split("Embedded database ", 1)[1].strip()).exists()


def test_environment_variable_picks_database(tmp_path: Path, monkeypatch, capsys) -> None:
    target = tmp_path / "env.db"
    monkeypatch.setenv("MINICRM_DATABASE_URL", f"sqlite:///{target}")
    assert main(["init-db"]) == 0
    assert target.exists()


def test_python_dash_m_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "minicrm_desktop",
            "--db",
            f"sqlite:///{tmp_path / 'x.db'}",
            "import",
            "customers",
            "--help",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    assert "email (required)" in result.stdout


def test_debug_shows_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "minicrm_desktop",
            "--debug",
            "--db",
            f"sqlite:///{tmp_path / 'x.db'}",
            "import",
            "customers",
            str(tmp_path / "none.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr
