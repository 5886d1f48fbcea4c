"""Schema objects that exist on one engine only, outside the ORM metadata.

MySQL/MariaDB get `customers.email_rev`, a generated column holding the reversed
`email_norm`, with an index: "email ends with @gmail.com" becomes a range seek on
`email_rev LIKE 'moc.liamg@%'` instead of a LIKE over every row. SQLite has no REVERSE()
and needs none (its scan of the covering email index is fast enough).

They also get `customers.avg_order_minor`, total_spend_minor DIV order_count (NULL without
orders), indexed with both columns: "average order value > V" seeks the range of the
truncated average and checks the exact total > V x count on the same entries. SQLite does
not read an index on an expression or generated column as covering, so it gains nothing.
And `customers.email_domain` (the part after the `@`), generated and indexed, so
the rule builder's email-domain suggestions are a range seek and an index-ordered count
(services/segments/suggestions.py); SQLite counts from its covering email index instead.
"""

from __future__ import annotations

from typing import Any

EMAIL_REV_COLUMN = "email_rev"
EMAIL_REV_INDEX = "ix_customers_email_rev"
AVG_ORDER_COLUMN = "avg_order_minor"
AVG_ORDER_INDEX = "ix_customers_avg_order_minor"
EMAIL_DOMAIN_COLUMN = "email_domain"
EMAIL_DOMAIN_INDEX = "ix_customers_email_domain"

# Their columns, as the migrations create them: a bulk load sets them aside on MySQL too
# (services/bulkload/indexes.py), and start-up restores any an interrupted load left out.
MYSQL_INDEX_COLUMNS = {
    "customers": {
        EMAIL_REV_INDEX: "(email_rev)",
        AVG_ORDER_INDEX: "(avg_order_minor, order_count, total_spend_minor)",
        EMAIL_DOMAIN_INDEX: "(email_domain)",
    },
}

_COLUMNS = {("customers", EMAIL_REV_COLUMN), ("customers", AVG_ORDER_COLUMN),
            ("customers", EMAIL_DOMAIN_COLUMN)}
_INDEXES = {EMAIL_REV_INDEX, AVG_ORDER_INDEX, EMAIL_DOMAIN_INDEX}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    """Alembic's comparison hook: leave the engine-only objects out of schema diffs."""
    if type_ == "column" and (getattr(obj.table, "name", None), name) in _COLUMNS:
        return False
    return not (type_ == "index" and name in _INDEXES)
