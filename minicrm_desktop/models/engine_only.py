"""Schema objects that exist on one engine only, outside the ORM metadata.

MySQL/MariaDB get `customers.email_rev`, a generated column holding the reversed
`email_norm`, with an index: "email ends with @gmail.com" becomes a range seek on
`email_rev LIKE 'moc.liamg@%'` instead of a LIKE over every row. SQLite has no REVERSE()
and needs none (its scan of the covering email index is fast enough).

They also get `customers.avg_order_minor`, total_spend_minor DIV order_count (NULL without
orders), indexed with both columns: "average order value > V" seeks the range of the
truncated average and checks the exact total > V x count on the same entries (a plain
test outside OR/NOT only on those whose truncated average equals V: compiler.py).
And `customers.email_domain` (the part after the `@`), generated and indexed, so
the rule builder's email-domain suggestions are a range seek and an index-ordered count
(services/segments/suggestions.py); SQLite counts from its covering email index instead.
And `ix_customers_last_order_spend (last_order_at, total_spend_minor)` (migration 0020):
"lapsed N months and spent over X" reads only the customers whose last order is older than
the cut-off (a quarter of them at a million) instead of everyone over the spend (half).
And `ix_customers_last_order_activity` (migration 0022), the same led by the last order but
holding count and consent too (SQLite's ix_customers_last_order_us): a nested tree's branch
"ordered N times and last ordered within D days" is a range of it (services/segments/
count_plan.py); the narrower 0020 index stays the faster one for "lapsed".

SQLite has `customers.avg_order_minor` too since migration 0017, with the same values and
index, but as a plain column kept by triggers: SQLite never reads an index on a generated
column as covering. `sqlite_average` gives writers the value, so the triggers find nothing
to correct (they only catch writers that do not set it).

SQLite also has `customers.last_order_us` since migration 0019: last_order_at as an integer,
microseconds since 1970-01-01 UTC (NULL without orders), kept by triggers the same way
(`sqlite_instant` gives writers the value). SQLite stores datetimes as 26-character text, so
each date test decoded and compared a string per index entry; on integers the rules reading
the last order ("lapsed", nested trees) step through their index about twice as fast. It is
exact to the microsecond, as the text is, so every comparison selects the same customers.

And `ix_customers_order_count_consent (order_count, subscribed, last_order_us,
total_spend_minor)` (migration 0023): the recent branch of a nested tree, a range of the
last order per order count, visits about 30% fewer entries than the same branch read from
ix_customers_last_order_us (services/segments/count_plan.py).

And `ix_customers_order_count_walk (order_count, subscribed, last_order_at)` (migration 0027):
the recent branch of a nested tree counted as one date range per order count, each value an
equality in the statement (services/segments/count_plan.py), visits only the matching
entries (312,000 instead of 443,000 at a million).

SQLite also has `customers.signup_us` since migration 0024: signup_date as an integer the same
way (`sqlite_instant` reads either date), kept by triggers and indexed alone
(ix_customers_signup_us). "Signed up in 2025" walked a quarter of the text index on
signup_date at ~40 ns an entry, 3.2x DuckDB; on integers it is about half that. The text
index is gone on SQLite (the customer table's sort by signup date reads signup_us too:
services/customers/queries.py), so an import still builds one index for the date; MySQL/
MariaDB keep `ix_customers_signup_date`, now outside the ORM metadata (MYSQL_INDEX_COLUMNS).

One index differs in its columns only: `ix_deliveries_campaign_id_status_id_next_attempt_at`
also holds `updated_at` and `variant` on MySQL/MariaDB (migration 0025), so a running
campaign's page reads its timeline from the index alone; the ORM declares SQLite's four.

Generated columns (and SQLite's triggers) stay right through every writer. Their indexes
are not in the ORM metadata, so `ENGINE_INDEXES` tells the bulk loader which to set aside
during a large load and rebuild after (services/bulkload/indexes.py), as it does the ORM's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

EMAIL_REV_COLUMN = "email_rev"
EMAIL_REV_INDEX = "ix_customers_email_rev"
AVG_ORDER_COLUMN = "avg_order_minor"
AVG_ORDER_INDEX = "ix_customers_avg_order_minor"
LAST_ORDER_US_COLUMN = "last_order_us"
LAST_ORDER_US_INDEX = "ix_customers_last_order_us"
SIGNUP_US_COLUMN = "signup_us"
SIGNUP_US_INDEX = "ix_customers_signup_us"
#: MySQL/MariaDB only since migration 0024 (SQLite reads ix_customers_signup_us instead).
SIGNUP_DATE_INDEX = "ix_customers_signup_date"
EMAIL_DOMAIN_COLUMN = "email_domain"
EMAIL_DOMAIN_INDEX = "ix_customers_email_domain"
LAST_ORDER_SPEND_INDEX = "ix_customers_last_order_spend"
LAST_ORDER_ACTIVITY_INDEX = "ix_customers_last_order_activity"
ORDER_COUNT_CONSENT_INDEX = "ix_customers_order_count_consent"
#: MySQL/MariaDB only since migration 0026 (in the ORM metadata before): spend, last order
#: (the datetime), count, consent.
SPEND_ACTIVITY_INDEX = "ix_customers_spend_activity"
#: SQLite's spend index since migration 0026: spend, consent, count, last_order_us.
SPEND_CONSENT_INDEX = "ix_customers_spend_consent"
#: MySQL/MariaDB only (migration 0027): the order-count walk of count_plan.py.
ORDER_COUNT_WALK_INDEX = "ix_customers_order_count_walk"

# Their columns, as the migrations create them: a bulk load sets them aside on MySQL too
# (services/bulkload/indexes.py), and start-up restores any an interrupted load left out.
MYSQL_INDEX_COLUMNS = {
    "customers": {
        EMAIL_REV_INDEX: "(email_rev)",
        AVG_ORDER_INDEX: "(avg_order_minor, order_count, total_spend_minor)",
        EMAIL_DOMAIN_INDEX: "(email_domain)",
        LAST_ORDER_SPEND_INDEX: "(last_order_at, total_spend_minor)",
        LAST_ORDER_ACTIVITY_INDEX: "(last_order_at, total_spend_minor, order_count, subscribed)",
        SIGNUP_DATE_INDEX: "(signup_date)",
        SPEND_ACTIVITY_INDEX: "(total_spend_minor, last_order_at, order_count, subscribed)",
        ORDER_COUNT_WALK_INDEX: "(order_count, subscribed, last_order_at)",
    },
}

_COLUMNS = {("customers", EMAIL_REV_COLUMN), ("customers", AVG_ORDER_COLUMN),
            ("customers", EMAIL_DOMAIN_COLUMN), ("customers", LAST_ORDER_US_COLUMN),
            ("customers", SIGNUP_US_COLUMN)}
_INDEXES = {EMAIL_REV_INDEX, AVG_ORDER_INDEX, EMAIL_DOMAIN_INDEX, LAST_ORDER_US_INDEX,
            LAST_ORDER_SPEND_INDEX, LAST_ORDER_ACTIVITY_INDEX, ORDER_COUNT_CONSENT_INDEX,
            SIGNUP_US_INDEX, SIGNUP_DATE_INDEX, SPEND_ACTIVITY_INDEX, SPEND_CONSENT_INDEX,
            ORDER_COUNT_WALK_INDEX}
#: In the ORM metadata with SQLite's columns, wider on MySQL/MariaDB (migration 0025).
DELIVERY_STATUS_INDEX = "ix_deliveries_campaign_id_status_id_next_attempt_at"


@dataclass(frozen=True)
class EngineIndex:
    """An index of one engine only, as the bulk loader drops and rebuilds it."""

    dialect: str
    table: str
    name: str
    column: str
    #: The ORM columns its key is computed from: a load writing them scatters its entries.
    derived_from: frozenset[str]
    create_sql: str
    drop_sql: str


#: Engine-only indexes the bulk loader handles (the MySQL ones are not listed yet: they
#: are kept, and maintained row by row, during a load).
ENGINE_INDEXES = (
    EngineIndex(
        "sqlite", "customers", AVG_ORDER_INDEX, AVG_ORDER_COLUMN,
        frozenset({"total_spend_minor", "order_count"}),
        f"CREATE INDEX IF NOT EXISTS {AVG_ORDER_INDEX} ON customers "
        f"({AVG_ORDER_COLUMN}, order_count, total_spend_minor)",
        f"DROP INDEX IF EXISTS {AVG_ORDER_INDEX}",
    ),
    # Led by the last order, with spend, count and consent: date ranges seek it, and trees
    # over spend, count, consent and last order scan it alone.
    EngineIndex(
        "sqlite", "customers", LAST_ORDER_US_INDEX, LAST_ORDER_US_COLUMN,
        frozenset({"last_order_at"}),
        f"CREATE INDEX IF NOT EXISTS {LAST_ORDER_US_INDEX} ON customers "
        f"({LAST_ORDER_US_COLUMN}, total_spend_minor, order_count, subscribed)",
        f"DROP INDEX IF EXISTS {LAST_ORDER_US_INDEX}",
    ),
    # Order count and consent, then the last order: "subscribed and ordered N times and
    # last ordered within D days" is a range of the date for each order count (the count
    # planner walks them: services/segments/count_plan.py), narrower than the date range
    # of the index above. Not led by consent: without statistics SQLite takes an equality
    # on a leading column for a few rows, and would read half the table for "subscribed".
    EngineIndex(
        "sqlite", "customers", ORDER_COUNT_CONSENT_INDEX, LAST_ORDER_US_COLUMN,
        frozenset({"order_count", "subscribed", "last_order_at", "total_spend_minor"}),
        f"CREATE INDEX IF NOT EXISTS {ORDER_COUNT_CONSENT_INDEX} ON customers "
        f"(order_count, subscribed, {LAST_ORDER_US_COLUMN}, total_spend_minor)",
        f"DROP INDEX IF EXISTS {ORDER_COUNT_CONSENT_INDEX}",
    ),
    # Led by the spend, then what SQLite's rules read beside it, integers only (migration
    # 0026, in place of ix_customers_spend_activity, whose text last_order_at no SQLite
    # query reads): spend ranges, and a nested tree's "spent over X and not (recent)" part,
    # so the recent part's walk above tests no spend (services/segments/count_plan.py).
    # Like the ORM indexes led by an aggregate, a customer load next to existing customers
    # only appends to it (all new customers have spent 0): only loads of spends set it aside.
    EngineIndex(
        "sqlite", "customers", SPEND_CONSENT_INDEX, LAST_ORDER_US_COLUMN,
        frozenset({"total_spend_minor"}),
        f"CREATE INDEX IF NOT EXISTS {SPEND_CONSENT_INDEX} ON customers "
        f"(total_spend_minor, subscribed, order_count, {LAST_ORDER_US_COLUMN})",
        f"DROP INDEX IF EXISTS {SPEND_CONSENT_INDEX}",
    ),
    # The signup date as an integer (migration 0024): date ranges and the table's sort.
    EngineIndex(
        "sqlite", "customers", SIGNUP_US_INDEX, SIGNUP_US_COLUMN,
        frozenset({"signup_date"}),
        f"CREATE INDEX IF NOT EXISTS {SIGNUP_US_INDEX} ON customers ({SIGNUP_US_COLUMN})",
        f"DROP INDEX IF EXISTS {SIGNUP_US_INDEX}",
    ),
)


def engine_indexes(dialect: str, table: str) -> list[EngineIndex]:
    return [ix for ix in ENGINE_INDEXES if ix.dialect == dialect and ix.table == table]


def sqlite_average(total_minor: int, order_count: int) -> int | None:
    """SQLite's stored avg_order_minor: total / count truncated toward zero, None without
    orders (what the triggers of migration 0017 would write)."""
    if order_count <= 0:
        return None
    quotient = abs(total_minor) // order_count
    return quotient if total_minor >= 0 else -quotient


_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


def sqlite_instant(value: datetime | str | None) -> int | None:
    """SQLite's stored last_order_us (migration 0019) or signup_us (0024) for a
    last_order_at or signup_date value: microseconds since 1970 UTC (None for None).
    `value` is an instant (naive means UTC) or the stored text ("2026-05-01
    10:00:00.000000"), read as the migrations' triggers read it: whole seconds from the
    first 19 characters, then up to six digits of fraction."""
    if value is None:
        return None
    if isinstance(value, str):
        return _text_instant(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return (value - _EPOCH) // _MICROSECOND


#: Microseconds since 1970 of each calendar day ("2025-03-04") and since midnight of each
#: time of day ("10:11:12") read so far: an import or a seed converts a million dates made
#: of a few thousand days and at most 86,400 times of day.
_DAY_US: dict[str, int] = {}
_TIME_US: dict[str, int] = {}
_CACHED_LIMIT = 100_000


def _text_instant(value: str) -> int:
    """sqlite_instant of stored text. The stored form ("YYYY-MM-DD HH:MM:SS.ffffff") is read
    by two look-ups once its day and time of day were parsed: parsing it whole each time
    would cost a million-row import seconds."""
    if len(value) == 26 and value[10] == " " and value[19] == ".":
        day = _DAY_US.get(value[:10])
        time = _TIME_US.get(value[11:19])
        if day is not None and time is not None:
            fraction = value[20:]
            return day + time + (0 if fraction == "000000" else int(fraction))
    whole = datetime.fromisoformat(value[:19])
    if len(value) == 26 and value[10] == " " and len(_DAY_US) < _CACHED_LIMIT:
        _DAY_US[value[:10]] = (datetime(whole.year, whole.month, whole.day) - _EPOCH
                               ) // _MICROSECOND
        _TIME_US[value[11:19]] = (whole.hour * 3600 + whole.minute * 60 + whole.second
                                  ) * 1_000_000
    return (whole - _EPOCH) // _MICROSECOND + int((value + "000000")[20:26])


def include_object_for(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's comparison hook for one engine: the engine-only objects stay out of schema
    diffs, and so does an index this engine holds wider than the ORM declares (MySQL/
    MariaDB's delivery status index); on SQLite that index is compared like any other."""
    wider = {DELIVERY_STATUS_INDEX} if dialect != "sqlite" else set()

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                       compare_to: Any) -> bool:
        if type_ == "column" and (getattr(obj.table, "name", None), name) in _COLUMNS:
            return False
        return not (type_ == "index" and (name in _INDEXES or name in wider))

    return include_object


def _sqlite_instant_sql(text: str) -> str:
    """Migration 0019's instant_sql: microseconds since 1970 of stored datetime text."""
    return (f"CASE WHEN {text} IS NOT NULL THEN "
            f"CAST(strftime('%s', substr({text}, 1, 19)) AS INTEGER) * 1000000 + "
            f"CAST(substr({text} || '000000', 21, 6) AS INTEGER) END")


def _sqlite_average_sql(row: str) -> str:
    return (f"CASE WHEN {row}order_count > 0 THEN {row}total_spend_minor / {row}order_count "
            "END")


@dataclass(frozen=True)
class EngineTrigger:
    """A SQLite AFTER INSERT trigger keeping a derived column (migrations 0017, 0019, 0024), as a
    bulk load of rows that already hold the right value sets it aside: each row of the
    load would run it for nothing (a third of a customer load's inserts)."""

    table: str
    name: str
    column: str
    create_sql: str
    #: What the trigger would have done to rows others inserted while it was set aside:
    #: correct every row whose column is wrong, reading only rows that may be (by index).
    fix_sql: str


def _insert_trigger(name: str, column: str, value: str, new_value: str,
                    candidates: tuple[str, str]) -> EngineTrigger:
    fix = (f"WHEN NEW.{column} IS NOT ({new_value}) BEGIN "
           f"UPDATE customers SET {column} = {new_value} WHERE id = NEW.id; END")
    return EngineTrigger(
        "customers", name, column,
        f"CREATE TRIGGER {name} AFTER INSERT ON customers {fix}",
        # Each candidate test a range of an index (SQLite scans the table for their OR).
        f"UPDATE customers SET {column} = {value} WHERE id IN ("
        f"SELECT id FROM customers WHERE {candidates[0]} UNION "
        f"SELECT id FROM customers WHERE {candidates[1]}) AND {column} IS NOT ({value})",
    )


SQLITE_INSERT_TRIGGERS = (
    _insert_trigger("tr_customers_avg_order_insert", AVG_ORDER_COLUMN,
                    _sqlite_average_sql(""), _sqlite_average_sql("NEW."),
                    ("order_count > 0", f"{AVG_ORDER_COLUMN} IS NOT NULL")),
    _insert_trigger("tr_customers_last_order_insert", LAST_ORDER_US_COLUMN,
                    _sqlite_instant_sql("last_order_at"), _sqlite_instant_sql("NEW.last_order_at"),
                    ("last_order_at IS NOT NULL", f"{LAST_ORDER_US_COLUMN} IS NOT NULL")),
    # Migration 0024's: it fills only a NULL signup_us (writers that set it use
    # sqlite_instant), so rows others inserted meanwhile are those still NULL (by its index).
    EngineTrigger(
        "customers", "tr_customers_signup_insert", SIGNUP_US_COLUMN,
        "CREATE TRIGGER tr_customers_signup_insert AFTER INSERT ON customers "
        f"WHEN NEW.{SIGNUP_US_COLUMN} IS NULL BEGIN UPDATE customers SET {SIGNUP_US_COLUMN} = "
        f"{_sqlite_instant_sql('NEW.signup_date')} WHERE id = NEW.id; END",
        f"UPDATE customers SET {SIGNUP_US_COLUMN} = {_sqlite_instant_sql('signup_date')} "
        f"WHERE {SIGNUP_US_COLUMN} IS NULL",
    ),
)
