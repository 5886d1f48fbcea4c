"""What each kind of import file holds, and telling one kind picked as the other."""

from __future__ import annotations

from collections.abc import Sequence

from ...errors import ImportFileError

CUSTOMER_FIELDS = (
    "email",
    "name",
    "phone",
    "city",
    "signup_date",
    "visits",
    "last_visit",
    "subscribed",
    "tags",
)
ORDER_FIELDS = ("order_id", "customer_email", "amount", "order_date")
FIELDS = {"customers": CUSTOMER_FIELDS, "orders": ORDER_FIELDS}
# The column only a file of that kind has.
_KEYS = {"customers": "email", "orders": "order_id"}
#: The columns an export of rejected rows adds after the file's own (see rejected.py).
REJECTED_COLUMNS = ("line", "column", "reason")


class WrongKindError(ImportFileError):
    """A file of the other kind: an orders file picked as customers, or the reverse."""

    def __init__(self, kind: str, looks_like: str, columns: Sequence[str]) -> None:
        shown = ", ".join(columns[:3]) + (", …" if len(columns) > 3 else "")
        super().__init__(
            f"this looks like {'an' if looks_like == 'orders' else 'a'} {looks_like} file "
            f"(columns {shown}), not {kind}: import it with `minicrm import {looks_like}`"
        )
        self.kind = kind
        self.looks_like = looks_like


def looks_like(header: Sequence[str]) -> str | None:
    """The kind whose columns the header is made of (its key column included), if any."""
    names = {h.strip().lower() for h in header if h.strip()}
    names -= set(REJECTED_COLUMNS) if _ends_with_rejected(header) else set()
    for kind, fields in FIELDS.items():
        if _KEYS[kind] in names and names <= set(fields):
            return kind
    return None


def check_kind(header: Sequence[str], kind: str) -> None:
    """Raise WrongKindError when a header that does not fit `kind` is one of the other kind."""
    other = looks_like(header)
    if other is not None and other != kind:
        columns = [h.strip() for h in header if h.strip().lower() in FIELDS[other]]
        raise WrongKindError(kind, other, columns)


def _ends_with_rejected(header: Sequence[str]) -> bool:
    tail = tuple(h.strip().lower() for h in header[-len(REJECTED_COLUMNS):])
    return len(header) > len(REJECTED_COLUMNS) and tail == REJECTED_COLUMNS


def is_rejected_export(header: Sequence[str], fields: Sequence[str]) -> bool:
    """A file written by the rejected-rows export: its own columns, then line/column/reason
    (which no import field shares)."""
    return _ends_with_rejected(header) and not set(REJECTED_COLUMNS) & set(fields)
