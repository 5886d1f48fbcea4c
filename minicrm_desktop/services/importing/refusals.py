"""Telling a row the database refuses apart from a database that fails.

A refused row (a constraint, a value out of range) spoils its batch's transaction but not the
others: the import writes the batch again without it. A failing database (disk full, server
gone) fails every row alike, so the import stops and says so.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError

# MySQL/MariaDB errors about one row's values: out of range (1264, 1690), bad text (1366),
# too long (1406), bad date (1292), NULL where not allowed (1048).
_ROW_CODES = {1048, 1264, 1292, 1366, 1406, 1690}
_COLUMN = re.compile(r"column '([^']+)'")
# Database columns named by the CSV column that fills them.
_CSV_COLUMN = {
    "email_norm": "email", "name_norm": "name", "phone_norm": "phone", "city_norm": "city",
    "tags_norm": "tags", "amount_minor": "amount", "total_spend_minor": "amount",
    "order_date": "order_date", "customer_id": "customer_email",
}


def refused_row(exc: BaseException) -> tuple[str | None, str] | None:
    """(CSV column or None, reason) when `exc` is the database refusing a row's values;
    None when it is anything else."""
    cause: BaseException | None = exc.orig if isinstance(exc, StatementError) else exc
    if cause is None:
        return None
    message = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    if isinstance(exc, OperationalError):
        args = getattr(cause, "args", ())
        code = args[0] if args else None
        if code not in _ROW_CODES and "integer overflow" not in message:
            return None
    elif not isinstance(exc, (IntegrityError, DataError, OverflowError, UnicodeError)) and not (
        isinstance(exc, StatementError) and isinstance(cause, (OverflowError, UnicodeError))
    ):
        return None
    details: tuple[object, ...] = tuple(getattr(cause, "args", ()))
    if len(details) > 1 and isinstance(details[1], str):  # PyMySQL: (code, message)
        message = details[1]
    m = _COLUMN.search(message)
    column = _CSV_COLUMN.get(m.group(1), m.group(1)) if m else None
    return column, f"the database refused this row: {message}"
