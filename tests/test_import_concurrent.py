"""Two imports at once on one SQLite file, in two real processes: both finish, every row
of both files is there once, ids are the database's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text

from tests.helpers import assert_aggregates_consistent, assert_tags_consistent, write_csv

# Each process imports its file in small batches. After its first batch it waits until the
# other process has written one too, so the two keep writing at the same time.
DRIVER = """
import sys, time
from pathlib import Path
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.core.database import create_db_engine
from minicrm_desktop.services.importing import import_customers

url, csv, me, other = sys.argv[1:5]
engine = create_db_engine(url)
state = {"waited": False}

def progress(_p):
    if state["waited"]:
        return
    state["waited"] = True
    Path(me).touch()
    deadline = time.monotonic() + 60
    while not Path(other).exists():  # a condition, polled; not a fixed sleep
        if time.monotonic() > deadline:
            sys.exit("the other import never started")
        time.sleep(0.005)

if csv == "seed":  # demo data, written in batches of 20,000 customers
    from minicrm_desktop.services.customers.seed import seed_demo_data

    print(seed_demo_data(engine, 40_000, actor=LOCAL_ADMIN,
                         progress=lambda done, wanted: progress(done)).summary())
else:
    report = import_customers(engine, Path(csv), actor=LOCAL_ADMIN, batch_size=150,
                              progress=progress)
    print(report.summary())
"""


def test_two_imports_at_once_both_finish(sqlite_engine: Engine, sqlite_url: str,
                                         tmp_path: Path) -> None:
    n = 3000
    files = []
    for name in ("a", "b"):
        body = "".join(f"{name}{i}@example.com,{name.upper()} {i},{name}|shared\n"
                       for i in range(n))
        files.append(write_csv(tmp_path / f"{name}.csv", "email,name,tags\n" + body))
    marks = [tmp_path / "a.started", tmp_path / "b.started"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DRIVER, sqlite_url, str(files[i]), str(marks[i]),
             str(marks[1 - i])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in (0, 1)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert f"customers: {n} imported, 0 updated, 0 unchanged, 0 rejected" in out
    with sqlite_engine.connect() as conn:
        total, distinct, low, high = conn.execute(text(
            "SELECT COUNT(*), COUNT(DISTINCT email_norm), MIN(id), MAX(id) FROM customers"
        )).one()
        tags: dict[str, int] = dict(conn.execute(text(
            "SELECT t.name_norm, COUNT(*) FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id "
            "GROUP BY t.name_norm")).all())
    assert (total, distinct) == (2 * n, 2 * n)
    assert (low, high) == (1, 2 * n)  # ids from the database: dense, none lost to a clash
    assert tags == {"a": n, "b": n, "shared": 2 * n}
    assert_tags_consistent(sqlite_engine)


def test_an_import_and_demo_data_at_once_both_finish(sqlite_engine: Engine, sqlite_url: str,
                                                      tmp_path: Path) -> None:
    body = "".join(f"imp{i}@example.com\n" for i in range(1000))
    path = write_csv(tmp_path / "i.csv", "email\n" + body)
    marks = [tmp_path / "import.started", tmp_path / "seed.started"]
    sources = [str(path), "seed"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DRIVER, sqlite_url, sources[i], str(marks[i]),
             str(marks[1 - i])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in (0, 1)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    assert "customers: 1000 imported" in results[0][0]
    assert "seeded 40000 customers" in results[1][0]
    with sqlite_engine.connect() as conn:
        total, distinct, high = conn.execute(text(
            "SELECT COUNT(*), COUNT(DISTINCT email_norm), MAX(id) FROM customers")).one()
        orphans = conn.execute(text(
            "SELECT COUNT(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id "
            "WHERE c.id IS NULL")).scalar_one()
    assert (total, distinct, high, orphans) == (41_000, 41_000, 41_000, 0)
    assert_aggregates_consistent(sqlite_engine)
    assert_tags_consistent(sqlite_engine)
