"""The best plain import of a customers CSV, to compare MiniCRM's import with (issue 18).

    python benchmarks/import_baseline.py sqlite|mysql fresh|upsert DATABASE CSV

Same schema, same stored values (normalised columns, storage timestamps, tags table, links,
tags_norm), but no validation, no rejection reports, no batching, no audit:
- SQLite: one process, the csv module and executemany in one transaction. `fresh` drops the
  secondary indexes first and builds them after; `upsert` loads into the populated database
  with INSERT ... ON CONFLICT DO UPDATE and replaces the tag links.
- MariaDB: LOAD DATA LOCAL INFILE, the server's bulk path. `fresh` loads into the table with
  its secondary indexes dropped and rebuilds them after; `upsert` loads into a staging table
  and applies it with INSERT ... SELECT ... ON DUPLICATE KEY UPDATE.
DATABASE is a SQLite file path or a pymysql URL's parts "host:port/db" (user root).
The CSV's tags are expected sorted (as import_seed.py writes them), so tags_norm is the
lower-cased cell between bars.
"""

from __future__ import annotations

import csv
import sqlite3
import sys
from datetime import UTC, datetime

SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                  "PRAGMA cache_size=-131072", "PRAGMA temp_store=MEMORY")
CUSTOMER_COLS = ("email", "email_norm", "name", "name_norm", "phone", "phone_norm", "city",
                 "city_norm", "signup_date", "visits", "last_visit", "subscribed", "tags_norm")


def _stamp(text: str) -> str | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def _rows(path: str) -> tuple[list[tuple[object, ...]], list[tuple[str, list[str]]]]:
    rows: list[tuple[object, ...]] = []
    tags: list[tuple[str, list[str]]] = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for email, name, phone, city, signup, visits, last, subscribed, tag_text in reader:
            norm = email.lower()
            labels = tag_text.split("|") if tag_text else []
            rows.append((email, norm, name or None, name.lower() or None, phone or None,
                         phone.lower() or None, city or None, city.lower() or None,
                         _stamp(signup), int(visits or 0), _stamp(last),
                         int(subscribed.lower() in ("yes", "true", "1", "")),
                         f"|{tag_text.lower()}|" if labels else ""))
            tags.append((norm, labels))
    return rows, tags


def sqlite_load(path: str, csv_path: str, upsert: bool) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(pragma)
    rows, tags = _rows(csv_path)
    conn.execute("BEGIN")
    indexes = [] if upsert else conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('customers', 'customer_tags', 'tags')").fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    names = ", ".join(CUSTOMER_COLS)
    marks = ", ".join("?" * len(CUSTOMER_COLS))
    sql = f"INSERT INTO customers ({names}) VALUES ({marks})"
    if upsert:
        sets = ", ".join(f"{c} = excluded.{c}" for c in CUSTOMER_COLS if c != "email_norm")
        sql += f" ON CONFLICT (email_norm) DO UPDATE SET {sets}"
    conn.executemany(sql, rows)
    labels = {label.lower(): label for _, names_ in tags for label in names_}
    conn.executemany("INSERT INTO tags (name, name_norm) VALUES (?, ?) "
                     "ON CONFLICT (name_norm) DO NOTHING", [(v, k) for k, v in labels.items()])
    tag_ids = dict(conn.execute("SELECT name_norm, id FROM tags"))
    ids = dict(conn.execute("SELECT email_norm, id FROM customers"))
    if upsert:
        conn.executemany("DELETE FROM customer_tags WHERE customer_id = ?",
                         [(ids[norm],) for norm, _ in tags])
    conn.executemany("INSERT INTO customer_tags (customer_id, tag_id) VALUES (?, ?)",
                     [(ids[norm], tag_ids[label.lower()]) for norm, names_ in tags
                      for label in names_])
    for _, create in indexes:
        conn.execute(create)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    conn.close()


_LOAD_SETS = (
    "email = @email, email_norm = LOWER(@email), name = NULLIF(@name, ''), "
    "name_norm = NULLIF(LOWER(@name), ''), phone = NULLIF(@phone, ''), "
    "phone_norm = NULLIF(LOWER(@phone), ''), city = NULLIF(@city, ''), "
    "city_norm = NULLIF(LOWER(@city), ''), "
    "signup_date = STR_TO_DATE(@signup, '%%Y-%%m-%%dT%%H:%%i:%%sZ'), visits = @visits, "
    "last_visit = STR_TO_DATE(NULLIF(@last, ''), '%%Y-%%m-%%dT%%H:%%i:%%sZ'), "
    "subscribed = LOWER(@subscribed) IN ('yes', 'true', '1', ''), "
    "tags_norm = IF(@tags = '', '', CONCAT('|', LOWER(@tags), '|'))"
)
_LOAD_VARS = "(@email, @name, @phone, @city, @signup, @visits, @last, @subscribed, @tags)"
# ("%%": the statement goes through pymysql's formatting, as it binds the file name.)
# The links: each customer's tags_norm split on its bars, joined to the tags table.
_NUMBERS = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(1, 17))
_SPLIT = (
    "SELECT c.id AS customer_id, SUBSTRING_INDEX(SUBSTRING_INDEX(c.tags_norm, '|', n.n + 1), "
    "'|', -1) AS label FROM customers c JOIN (" + _NUMBERS + ") n "
    "ON n.n < LENGTH(c.tags_norm) - LENGTH(REPLACE(c.tags_norm, '|', '')) "
    "WHERE c.tags_norm <> ''"
)


def mysql_load(where: str, csv_path: str, upsert: bool) -> None:
    import pymysql

    hostport, db = where.split("/", 1)
    host, port = hostport.split(":")
    import time

    started = time.perf_counter()

    def step(what: str) -> None:  # where the time goes, on standard error
        print(f"{time.perf_counter() - started:7.2f} s {what}", file=sys.stderr)

    conn = pymysql.connect(host=host, port=int(port), user="root", database=db,
                           local_infile=True, autocommit=True)
    cur = conn.cursor()
    target = "customers"
    dropped: list[str] = []
    keys: list[str] = []
    if upsert:
        cur.execute("CREATE TEMPORARY TABLE staging LIKE customers")
        target = "staging"
    else:
        cur.execute("SHOW CREATE TABLE customers")
        keys = [line.strip().rstrip(",") for line in cur.fetchone()[1].splitlines()
                if line.strip().startswith("KEY ")]
        dropped = [key.split("`")[1] for key in keys]
        if dropped:
            cur.execute("ALTER TABLE customers " + ", ".join(f"DROP INDEX `{n}`"
                                                               for n in dropped))
    cur.execute(
        f"LOAD DATA LOCAL INFILE %s INTO TABLE {target} CHARACTER SET utf8mb4 "
        "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
        f"LINES TERMINATED BY '\\r\\n' IGNORE 1 LINES {_LOAD_VARS} SET {_LOAD_SETS}",
        (csv_path,))
    step("loaded")
    conn.begin()
    if upsert:
        cols = ", ".join(c for c in CUSTOMER_COLS)
        sets = ", ".join(f"{c} = VALUES({c})" for c in CUSTOMER_COLS if c != "email_norm")
        cur.execute(f"INSERT INTO customers ({cols}) SELECT {cols} FROM staging "
                    f"ON DUPLICATE KEY UPDATE {sets}")
        step("upserted")
        cur.execute("DELETE ct FROM staging s STRAIGHT_JOIN customers c "
                    "ON c.email_norm = s.email_norm STRAIGHT_JOIN customer_tags ct "
                    "ON ct.customer_id = c.id")
        step("old links deleted")
    cur.execute(f"INSERT IGNORE INTO tags (name, name_norm) SELECT DISTINCT label, label "
                f"FROM ({_SPLIT}) s")
    step("tags")
    cur.execute(f"INSERT IGNORE INTO customer_tags (customer_id, tag_id) SELECT s.customer_id, "
                f"t.id FROM ({_SPLIT}) s JOIN tags t ON t.name_norm = s.label")
    conn.commit()
    step("links")
    if dropped:  # all rebuilt in one pass over the table
        cur.execute("ALTER TABLE customers " + ", ".join(f"ADD {key}" for key in keys))
        step("indexes")
    conn.close()


def main() -> None:
    engine, mode, where, csv_path = sys.argv[1:5]
    if mode not in ("fresh", "upsert"):
        raise SystemExit(f"mode must be fresh or upsert, not {mode!r}")
    load = sqlite_load if engine == "sqlite" else mysql_load
    load(where, csv_path, mode == "upsert")


if __name__ == "__main__":
    main()
