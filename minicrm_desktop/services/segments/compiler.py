"""A rule tree and a clock become one WHERE clause over `customers` (SQLAlchemy Core).

Every leaf under a NOT compiles to a predicate that is never NULL (nullable columns are
guarded with IS NOT NULL), so NOT is always the exact complement and count(C) + count(not
C) = all; outside every NOT a date range may be NULL where it is false, which a WHERE or a
CASE WHEN treats alike (see `_interval`). So negate a tree, never its compiled predicate.
Field names map to columns only through the tables below; values are bound parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    LargeBinary,
    and_,
    cast,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.mysql import BINARY
from sqlalchemy.sql.elements import Grouping

from ...models.engine_only import (
    AVG_ORDER_COLUMN,
    EMAIL_REV_COLUMN,
    LAST_ORDER_US_COLUMN,
    SIGNUP_US_COLUMN,
    sqlite_instant,
)
from ...models.rules import Condition, RelativePeriod, RuleError, RuleGroup
from ...models.rules_fields import FIELDS, NEGATIONS, FieldType
from ...models.rules_values import DatePoint, Period, ValueProblem, read_value
from ...models.tables import customer_tags, customers_table, tags_table
from .periods import period_start, resolve_as_of
from .text_match import (
    LIKE_ESCAPE,
    escape_like,
    exact_equals,
    like_pattern,
    no_index,
    parenthesized,
)

customers = customers_table

Predicate = ColumnElement[bool]

STRING_COLUMNS = {
    "name": customers.c.name_norm,
    "email": customers.c.email_norm,
    "phone": customers.c.phone_norm,
    "city": customers.c.city_norm,
}
DATETIME_COLUMNS = {
    "signup_date": customers.c.signup_date,
    "last_visit": customers.c.last_visit,
    "first_order_date": customers.c.first_order_at,
    "last_order_date": customers.c.last_order_at,
}
#: Date fields SQLite also stores as integer microseconds since 1970 UTC, NULL alike
#: (migrations 0019 and 0024, models/engine_only.py): the column its conditions compare.
SQLITE_INSTANT_COLUMNS = {
    "last_order_date": LAST_ORDER_US_COLUMN,
    "signup_date": SIGNUP_US_COLUMN,
}
#: Number fields stored as integers: column and the factor from the rule's unit to it.
NUMBER_COLUMNS = {
    "visits": (customers.c.visits, 1),
    "order_count": (customers.c.order_count, 1),
    "total_spend": (customers.c.total_spend_minor, 100),
}

#: Terms combined per AND/OR before nesting in parentheses: SQLite parses `a OR b OR ...`
#: into a left-deep tree limited to 1000 levels, so wide groups are split into a balanced one.
_FLAT_TERMS = 8


@dataclass(frozen=True)
class _Bound:
    value: Any
    inclusive: bool


def compile_rule(
    tree: RuleGroup, as_of: datetime | None, dialect: str, *, seek: bool = True
) -> Predicate:
    """The WHERE clause selecting the customers of `tree` at `as_of` on `dialect`.

    Without `seek`, SQLite may read the tree's columns from an index but seek none of them
    (unary +, as under an OR): for the count planner's parts whose range is another
    predicate's (services/segments/count_plan.py)."""
    compiler = _Compiler(resolve_as_of(as_of), dialect, seek=seek)
    return compiler.group(tree) if compiler.group_is_active(tree) else true()


def is_outside_period(cond: Condition) -> bool:
    """Whether `cond` is a date outside a period or day ("not within the last…", "not
    between", "is not on"): compiled as an OR of disjoint pieces (`outside_pieces`)."""
    positive = NEGATIONS.get(cond.operator)
    return FIELDS[cond.field] is FieldType.DATETIME and positive not in (None, "null")


def outside_pieces(cond: Condition, as_of: datetime, dialect: str) -> list[Predicate]:
    """The disjoint predicates whose OR is the compiled `cond` (see `is_outside_period`):
    never set, before the period, after it; each alone is one range of the column's index,
    where SQLite would answer their OR by merging rowids ("MULTI-INDEX OR")."""
    operator, value, _ = condition_value(cond)
    col, lo, hi = _Compiler(resolve_as_of(as_of), dialect).date_range(cond.field, operator, value)
    return _outside(col, lo, hi, nullable=bool(DATETIME_COLUMNS[cond.field].nullable))


def is_average_range(cond: Condition) -> bool:
    """Whether `cond` is a positive range of the average order value ("> 1500", "between"):
    outside OR and NOT it compiles to one range of the truncated average (`_average_seek`),
    which `average_pieces` splits."""
    if cond.field != "avg_order_value":
        return False
    operator, _, negate = condition_value(cond)
    return not negate and operator != "null"


def average_pieces(cond: Condition) -> list[Predicate]:
    """The disjoint predicates whose OR is `cond` (`is_average_range`) as compiled outside OR
    and NOT, by the truncated average T (avg_order_minor): T strictly between the bounds,
    where every customer holds and nothing more is tested; and T equal to each bound, the
    only customers whose exact total against bound x count decides.

    Counted apart, the first piece is a bare range of ix_customers_avg_order_minor (each
    entry counted with no test; at a million, "average over 1,500" visits 399,000 entries
    with 50M instructions instead of 195M), the others an equality seek each."""
    operator, value, _ = condition_value(cond)
    lo, hi = _number_interval(operator, value, lambda n: int(n * 100))
    truncated = literal_column(f"customers.{AVG_ORDER_COLUMN}", BigInteger())
    exact = _average_seek(truncated, customers.c.total_spend_minor, customers.c.order_count,
                          lo, hi)
    edges = list(dict.fromkeys(b.value for b in (lo, hi) if b is not None))
    inside: list[Predicate] = []
    if lo is not None:
        inside.append(truncated > lo.value)
    if hi is not None:
        inside.append(truncated < hi.value)
    pieces = [and_(truncated == edge, exact) for edge in edges]
    if lo is None or hi is None or lo.value < hi.value:
        pieces.insert(0, and_(*inside))
    return pieces


class _Compiler:
    def __init__(self, as_of: datetime, dialect: str, *, seek: bool = True) -> None:
        self.as_of = as_of
        self.sqlite = dialect == "sqlite"
        self.seek = seek
        self.or_depth = 0
        self.not_depth = 0  # inside negated groups: NOT (a AND b) is an OR in disguise

    def col(self, column: Any) -> Any:
        """A column as a condition should read it.

        Under an OR, SQLite may answer each branch from its own index and merge rowids
        ("MULTI-INDEX OR"); with unselective branches that is ~30x slower than one scan of
        a covering index. Unary + keeps such columns out of index lookups there.
        """
        return no_index(column) if self.sqlite and (self.or_depth or not self.seek) else column

    # -- groups ---------------------------------------------------------------------------

    def group_is_active(self, group: RuleGroup) -> bool:
        """A group with no conditions anywhere inside is ignored, as if absent."""
        return any(
            self.group_is_active(rule) if isinstance(rule, RuleGroup) else True
            for rule in group.rules
        )

    def group(self, group: RuleGroup) -> Predicate:
        active = [
            rule
            for rule in group.rules
            if not isinstance(rule, RuleGroup) or self.group_is_active(rule)
        ]
        branching = group.combinator == "or" and len(active) > 1
        self.or_depth += branching
        self.not_depth += group.negated
        parts = [
            self.group(rule) if isinstance(rule, RuleGroup) else self.condition(rule)
            for rule in active
        ]
        self.or_depth -= branching
        self.not_depth -= group.negated
        joined = _balanced(and_ if group.combinator == "and" else or_, parts)
        return not_(Grouping(joined)) if group.negated else joined

    # -- conditions -----------------------------------------------------------------------

    def condition(self, cond: Condition) -> Predicate:
        operator, value, negate = condition_value(cond)
        return self._BUILDERS[FIELDS[cond.field]](self, cond.field, operator, value, negate)

    def _string(self, field: str, op: str, value: Any, negate: bool) -> Predicate:
        col = self.col(STRING_COLUMNS[field])
        if op == "null":
            return col.is_not(None) if negate else col.is_(None)
        if op == "=":
            match = exact_equals(col, value.lower())
        elif op == "in":
            match = col.in_(_lowered(value))  # exact: NO PAD collations on MySQL
        elif op == "endsWith" and field == "email" and not self.sqlite:
            # A prefix of the reversed email: a range seek in its index (engine_only.py).
            # Emails are never NULL, so no IS NOT NULL guard (it would need the row).
            reversed_email = literal_column(f"customers.{EMAIL_REV_COLUMN}", col.type)
            match = reversed_email.like(like_pattern(value.lower()[::-1], "beginsWith"),
                                        escape=LIKE_ESCAPE)
            return not_(Grouping(match)) if negate else match
        elif op == "contains" and not self.sqlite:
            return _mysql_contains(col, value.lower(), negate)
        else:
            match = col.like(like_pattern(value.lower(), op), escape=LIKE_ESCAPE)
        positive = and_(col.is_not(None), match)
        return not_(Grouping(positive)) if negate else positive

    def _tags(self, field: str, op: str, value: Any, negate: bool) -> Predicate:
        # customers.tags_norm ("|newsletter|vip|", "" for none) mirrors customer_tags: one
        # narrow index scan answers "no tags", and on SQLite "has tag X" and its negation.
        col = self.col(customers.c.tags_norm)
        if op == "null":
            return col != "" if negate else col == ""
        wanted = wanted_tags(value)
        if not wanted:
            return true() if negate else false()
        if not self.sqlite and not negate:
            return _tagged_with(wanted)
        has = _balanced(
            or_, [col.like(f"%|{escape_like(n)}|%", escape=LIKE_ESCAPE) for n in wanted]
        )
        return not_(Grouping(has)) if negate else has

    def _boolean(self, field: str, op: str, value: Any, negate: bool) -> Predicate:
        wanted = bool(value) != negate  # "!= true" is "= false": the column is never NULL
        return self.col(customers.c.subscribed) == wanted

    def _number(self, field: str, op: str, value: Any, negate: bool) -> Predicate:
        if field == "avg_order_value":
            return self._average(op, value, negate)
        col, factor = NUMBER_COLUMNS[field]
        col = self.col(col)
        if op == "null":  # these columns are never NULL (0 without orders)
            return col.is_not(None) if negate else col.is_(None)

        def scaled(number: Decimal) -> int:
            return int(number * factor)

        lo, hi = _number_interval(op, value, scaled)
        return _interval(col, lo, hi, nullable=False, negate=negate, between=not self.sqlite)

    def _average(self, op: str, value: Any, negate: bool) -> Predicate:
        """total / count compared exactly as total <op> V * count, for customers with orders."""
        total = self.col(customers.c.total_spend_minor)
        count = self.col(customers.c.order_count)
        has_orders = count > 0
        if op == "null":
            return has_orders if negate else not_(has_orders)
        lo, hi = _number_interval(op, value, lambda n: int(n * 100))
        truncated = literal_column(f"customers.{AVG_ORDER_COLUMN}", BigInteger())
        if not (negate or self.or_depth or self.not_depth):
            return _average_seek(truncated, total, count, lo, hi)
        terms: list[Predicate] = [has_orders]
        if not self.sqlite:
            # Implied by the exact terms (truncation keeps an integer bound on its side), so
            # only narrows: a range seek in ix_customers_avg_order_minor (engine_only.py).
            if lo is not None:
                terms.append(truncated >= lo.value)
            if hi is not None:
                terms.append(truncated <= hi.value)
        if lo is not None:
            scaled = count * lo.value
            terms.append(total >= scaled if lo.inclusive else total > scaled)
        if hi is not None:
            scaled = count * hi.value
            terms.append(total <= scaled if hi.inclusive else total < scaled)
        positive = and_(*terms)
        return not_(Grouping(positive)) if negate else positive

    def _datetime(self, field: str, op: str, value: Any, negate: bool) -> Predicate:
        nullable = bool(DATETIME_COLUMNS[field].nullable)
        if op == "null":
            col = self.col(self._date_column(field))
            return col.is_not(None) if negate else col.is_(None)
        col, lo, hi = self.date_range(field, op, value)
        return _interval(col, lo, hi, nullable=nullable, negate=negate, guard=self.not_depth > 0,
                         between=not self.sqlite)

    def date_range(
        self, field: str, op: str, value: Any
    ) -> tuple[Any, _Bound | None, _Bound | None]:
        """The column a date condition compares and the bounds of its positive period."""
        col = self.col(self._date_column(field))
        lo, hi = self._datetime_interval(op, value)
        if self.sqlite and field in SQLITE_INSTANT_COLUMNS:
            return col, _instant(lo), _instant(hi)
        return col, lo, hi

    def _date_column(self, field: str) -> Any:
        """SQLite compares the last order and the signup date as integer microseconds since
        1970 UTC.

        customers.last_order_us (migration 0019) is last_order_at to the microsecond, NULL
        alike, and customers.signup_us (0024) is signup_date so; each bound converted the
        same way selects exactly the same customers. An integer is decoded and compared
        several times faster than the stored text; ix_customers_last_order_us holds the
        last order with spend, count and consent, ix_customers_signup_us the signup alone.
        """
        if self.sqlite and field in SQLITE_INSTANT_COLUMNS:
            return literal_column(f"customers.{SQLITE_INSTANT_COLUMNS[field]}", BigInteger())
        return DATETIME_COLUMNS[field]

    def _datetime_interval(self, op: str, value: Any) -> tuple[_Bound | None, _Bound | None]:
        if op == "withinLast":
            assert isinstance(value, Period)
            start = period_start(self.as_of, value)
            return (_Bound(start, True) if start else None), _Bound(self.as_of, True)
        if op == "between":
            low, high = value
            return _day_start(low), _day_end(high)
        point: DatePoint = value
        if op == "=":  # the same UTC calendar day, for a date or a date-time alike
            day = point.start.replace(hour=0, minute=0, second=0, microsecond=0)
            whole = DatePoint(day, _next_day(day), whole_day=True)
            return _day_start(whole), _day_end(whole)
        if op == "<":
            return None, _Bound(point.start, False)
        if op == "<=":
            return None, _day_end(point)
        if op == ">":
            if point.whole_day:
                return (_Bound(point.end, True) if point.end else _Bound(None, False)), None
            return _Bound(point.start, False), None
        if op == ">=":
            return _day_start(point), None
        raise AssertionError(f"unexpected datetime operator {op!r}")  # pragma: no cover

    _BUILDERS: dict[FieldType, Callable[[_Compiler, str, str, Any, bool], Predicate]] = {}


_Compiler._BUILDERS = {
    FieldType.STRING: _Compiler._string,
    FieldType.TAGS: _Compiler._tags,
    FieldType.BOOLEAN: _Compiler._boolean,
    FieldType.NUMBER: _Compiler._number,
    FieldType.INTEGER: _Compiler._number,
    FieldType.DATETIME: _Compiler._datetime,
}


def wanted_tags(value: str | Sequence[str]) -> list[str]:
    """The normalised tag names a contains/in condition's value asks for.

    A bar cannot be part of a tag name (it separates them), so such a name matches none."""
    names = [value] if isinstance(value, str) else value
    return list(dict.fromkeys(name.lower() for name in names if "|" not in name))


def condition_value(cond: Condition) -> tuple[str, Any, bool]:
    """The positive operator, the typed value and whether the condition is its negation."""
    positive = NEGATIONS.get(cond.operator)
    operator = positive or cond.operator
    raw = cond.value.model_dump() if isinstance(cond.value, RelativePeriod) else cond.value
    try:
        value = read_value(cond.field, FIELDS[cond.field], operator, raw, present=raw is not None)
    except ValueProblem as exc:  # a tree built in code rather than by parse_rule
        raise RuleError([f"{cond.field} {cond.operator}: {exc.message}"]) from None
    return operator, value, positive is not None


def _tagged_with(names: list[str]) -> Predicate:
    """Customers linked to a tag named one of `names` (normalised): a semi-join.

    MySQL/MariaDB index only a 255-byte prefix of tags_norm, so a LIKE on it reads every
    customer row (1.1 s at a million); this walks the (tag_id, customer_id) index of the
    tag's customers and seeks each one by primary key. SQLite's scan of its full covering
    tags_norm index is as fast, and the complement (a NOT IN probe per customer) is 3-6x
    slower than a scan on both engines, so negations keep tags_norm.
    """
    tagged = (
        select(customer_tags.c.customer_id)
        .join(tags_table, tags_table.c.id == customer_tags.c.tag_id)
        .where(tags_table.c.name_norm.in_(names))
    )
    return customers.c.id.in_(tagged)


def _mysql_contains(col: Any, value: str, negate: bool) -> Predicate:
    """MySQL/MariaDB "contains": the value's UTF-8 bytes searched in the column's, never NULL.

    No index can seek a substring, so a count reads every entry of the column's index. As
    `col IS NOT NULL AND col LIKE '%v%'` MariaDB walks it as a range on IS NOT NULL and
    matches a pattern per entry; LOCATE of bytes in bytes is a plain byte search (no
    wildcards, so nothing to escape), and with no range condition the index is read by its
    faster full scan: about 25% less per entry at a million. A byte match is a character
    match, since UTF-8 never starts a character inside another. The COALESCE keeps NULL (no
    text) from matching, and its negation exact.
    """
    needle = literal(value.encode("utf-8"), LargeBinary())
    found = func.coalesce(func.locate(needle, cast(col, BINARY())), 0) > 0
    return not_(Grouping(found)) if negate else found


def _average_seek(
    truncated: Any, total: Any, count: Any, lo: _Bound | None, hi: _Bound | None
) -> Predicate:
    """A positive average test outside OR and NOT: decided by the truncated average
    (customers.avg_order_minor, NULL without orders: generated on MySQL/MariaDB by migration
    0014, stored on SQLite by migration 0017) wherever it can be. Both engines truncate
    toward zero (SQLite's integer `/`, MySQL's DIV).

    T = trunc(total / count) is within a unit of the average and rounds toward zero, so for
    an integer bound V: average > V implies T >= V, and T > V implies average > V (and the
    mirror for upper bounds). Only customers with T == V need the exact total <op> V * count.
    A count is then one range of the covering ix_customers_avg_order_minor, and most entries
    are decided by their first column (on MariaDB ~10% less per entry than testing the
    product on each). Under an OR or a NOT the old form stays: it is read from an index
    that the other terms of such a tree share (ix_customers_spend_activity).
    """
    terms: list[Predicate] = [truncated.is_not(None)]
    if lo is not None:
        scaled = count * lo.value
        exact = total >= scaled if lo.inclusive else total > scaled
        terms += [truncated >= lo.value, or_(truncated > lo.value, exact)]
    if hi is not None:
        scaled = count * hi.value
        exact = total <= scaled if hi.inclusive else total < scaled
        terms += [truncated <= hi.value, or_(truncated < hi.value, exact)]
    return and_(*terms)


def _instant(bound: _Bound | None) -> _Bound | None:
    """A datetime bound as microseconds since 1970 UTC (SQLITE_INSTANT_COLUMNS); "after the
    end of all time" (None) stays as it is."""
    if bound is None or bound.value is None:
        return bound
    return _Bound(sqlite_instant(bound.value), bound.inclusive)


def _lowered(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(v.lower() for v in values))


def _balanced(join: Callable[..., Predicate], parts: list[Predicate]) -> Predicate:
    if len(parts) <= _FLAT_TERMS:
        return join(*parts) if len(parts) != 1 else parts[0]
    size = -(-len(parts) // _FLAT_TERMS)
    return join(
        *(parenthesized(_balanced(join, parts[i : i + size])) for i in range(0, len(parts), size))
    )


def _number_interval(
    op: str, value: Any, scaled: Callable[[Decimal], int]
) -> tuple[_Bound | None, _Bound | None]:
    if op == "between":
        return _Bound(scaled(value[0]), True), _Bound(scaled(value[1]), True)
    v = scaled(value)
    return {
        "=": (_Bound(v, True), _Bound(v, True)),
        "<": (None, _Bound(v, False)),
        "<=": (None, _Bound(v, True)),
        ">": (_Bound(v, False), None),
        ">=": (_Bound(v, True), None),
    }[op]


def _next_day(day: datetime) -> datetime | None:
    try:
        return day + timedelta(days=1)
    except OverflowError:
        return None


def _day_start(point: DatePoint) -> _Bound:
    """From a date's 00:00, or from a date-time's instant, inclusive."""
    return _Bound(point.start, True)


def _day_end(point: DatePoint) -> _Bound | None:
    """Up to a date's end (before the next day's 00:00), or up to an instant, inclusive."""
    if point.whole_day:
        return _Bound(point.end, False) if point.end is not None else None
    return _Bound(point.start, True)


def _interval(
    col: Any, lo: _Bound | None, hi: _Bound | None, *, nullable: bool, negate: bool,
    guard: bool = True, between: bool = False,
) -> Predicate:
    """`col` within [lo, hi] (or outside it, NULL included, when negated).

    Within it, a NULL `col` compares NULL, not false: `guard` adds IS NOT NULL to make it
    false, which only a NOT above needs. Outside every NOT, a NULL leaf leaves an AND/OR
    tree unsatisfied exactly as a false one does (Kleene logic), so the WHERE selects the
    same rows, and SQLite saves the test on each index entry of a range (~12%).

    With `between` (MySQL/MariaDB) a range bounded on both sides is one `BETWEEN` of
    inclusive ends (`_inclusive`): MariaDB re-tests a range's condition on every index
    entry it visits, and BETWEEN reads a DATETIME(6) value once for both ends where two
    comparisons decode it twice: "signed up in 2025" (250,000 entries) took 14% less server
    CPU at a million, a last-90-days range (443,000) 14% less. Same rows: each exclusive
    end moves to the next value inward, and these columns hold nothing between the two."""
    if negate:
        outside = _outside(col, lo, hi, nullable=nullable)
        return or_(*outside) if outside else false()
    if lo is not None and lo.value is None:  # after the end of all time: nothing
        return false()
    if lo is not None and hi is not None and lo.inclusive and hi.inclusive and lo.value == hi.value:
        inside: list[Predicate] = [col == lo.value]
    elif between and (ends := _inclusive(lo, hi)) is not None:
        inside = [col.between(*ends)]
    else:
        inside = []
        if lo is not None:
            inside.append(col >= lo.value if lo.inclusive else col > lo.value)
        if hi is not None:
            inside.append(col <= hi.value if hi.inclusive else col < hi.value)
    if nullable and (guard or not inside):
        inside.insert(0, col.is_not(None))
    return and_(*inside) if inside else true()


#: The step between neighbouring values of the columns `_interval` reads: integers, and
#: MySQL's DATETIME(6) instants (UTCDateTime stores microseconds).
_STEPS: dict[type, Any] = {int: 1, datetime: timedelta(microseconds=1)}


def _inclusive(lo: _Bound | None, hi: _Bound | None) -> tuple[Any, Any] | None:
    """[lo, hi] with both ends inclusive (an exclusive end moved one step inward), or None
    when a side is open or a value has no known step (then the comparisons stay)."""
    if lo is None or hi is None or lo.value is None or hi.value is None:
        return None
    kind = type(lo.value)
    step = _STEPS.get(kind)
    if step is None or type(hi.value) is not kind:
        return None
    try:
        low = lo.value if lo.inclusive else lo.value + step
        high = hi.value if hi.inclusive else hi.value - step
    except OverflowError:  # an end at the first or last representable instant
        return None
    return low, high


def _outside(col: Any, lo: _Bound | None, hi: _Bound | None, *, nullable: bool) -> list[Predicate]:
    """The disjoint pieces of `col` outside [lo, hi]: NULL, below, above (none: nothing)."""
    if lo is not None and lo.value is None:  # after the end of all time: everything
        return [true()]
    if lo is not None and hi is not None and lo.inclusive and hi.inclusive and lo.value == hi.value:
        outside: list[Predicate] = [col != lo.value]
    else:
        outside = []
        if lo is not None:
            outside.append(col < lo.value if lo.inclusive else col <= lo.value)
        if hi is not None:
            outside.append(col > hi.value if hi.inclusive else col >= hi.value)
    if nullable:
        outside.insert(0, col.is_(None))
    return outside
