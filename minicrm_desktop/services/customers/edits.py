"""Editing one customer: name, phone, city, tags and subscription.

Values pass the import's own checks (services/importing: control characters refused,
Unicode NFC, trimmed, the same length limits, tags trimmed and merged case-insensitively)
and are written the import's way (the *_norm columns, customers.tags_norm and
customer_tags together), so an edited customer is found by segment rules exactly like an
imported one. Every edit is role-checked and audited in its own transaction.

Optimistic concurrency: an edit carries the `CustomerVersion` it was made from; if another
window, process or import changed the customer since, the edit is refused (StaleCustomer)
instead of silently overwriting that change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.models.tables import customer_tags, customers_table, tags_table
from minicrm_desktop.services.access.actor import Actor, Permission
from minicrm_desktop.services.access.audit import Action, record
from minicrm_desktop.services.access.users import authorize
from minicrm_desktop.services.importing import (
    CsvRow,
    RowError,
    clean_cells,
    replace_customer_tags,
    validate_customer,
)

customers = customers_table
c = customers.c

#: The fields an edit may change, in the order messages name them.
EDITABLE = ("name", "phone", "city", "tags", "subscribed")


class CustomerEditError(MiniCRMError):
    """A value the customer's record cannot take; the message names the field."""

    exit_code = 2


class CustomerNotFound(CustomerEditError):
    pass


class StaleCustomer(MiniCRMError):
    """The customer changed since the edit's view of them was read."""


@dataclass(frozen=True)
class CustomerVersion:
    """The editable columns as they were read: what an edit expects to find."""

    name: str | None
    phone: str | None
    city: str | None
    subscribed: bool
    tags_norm: str


@dataclass(frozen=True)
class EditableCustomer:
    id: int
    email: str
    name: str | None
    phone: str | None
    city: str | None
    subscribed: bool
    tags: tuple[str, ...]  # as first written, ordered by their normalized names
    version: CustomerVersion


@dataclass(frozen=True)
class CustomerChanges:
    """What to change; None leaves a field as it is. Blank text clears a field, an empty
    list clears the tags."""

    name: str | None = None
    phone: str | None = None
    city: str | None = None
    tags: Sequence[str] | None = None
    subscribed: bool | None = None


@dataclass(frozen=True)
class EditResult:
    customer: EditableCustomer
    changed: tuple[str, ...]  # the fields whose value changed ((): nothing to do)


def read_customer(engine: Engine | Connection, key: int | str) -> EditableCustomer:
    """The customer with this id or (case-insensitive) email, as an edit starts from."""
    if isinstance(engine, Connection):
        return _read(engine, key, lock=False)
    with engine.connect() as conn:
        return _read(conn, key, lock=False)


def edit_customer(
    engine: Engine,
    key: int | str,
    changes: CustomerChanges,
    *,
    expected: CustomerVersion | None = None,
    actor: Actor,
) -> EditResult:
    """Apply `changes` to the customer with this id or email.

    `expected` is the version the edit was made from (`EditableCustomer.version`); when the
    customer no longer matches it, nothing is written and StaleCustomer says what changed.
    Without it (a one-shot command that reads and writes at once) the edit applies to
    whatever is stored.
    """
    with engine.connect() as conn:
        authorize(conn, actor, Permission.EDIT_CUSTOMERS)
        if conn.in_transaction():
            conn.commit()  # the check above read; the edit's transaction starts below
        if conn.dialect.name == "sqlite":
            # Take the write lock before reading, so what is compared is what is written over.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        current = _read(conn, key, lock=True)
        values = validate_changes(current.email, changes)
        if expected is not None and expected != current.version:
            conn.rollback()
            differ = [f.name.removesuffix("_norm") for f in fields(CustomerVersion)
                      if getattr(expected, f.name) != getattr(current.version, f.name)]
            raise StaleCustomer(
                f"{current.email} was changed elsewhere since it was opened "
                f"({', '.join(differ)}); nothing was saved — reload the customer and make "
                "the edit again")
        changed = _changed(current, values)
        if not changed:
            conn.rollback()
            return EditResult(current, ())
        _write(conn, current.id, values, changed)
        record(conn, actor, Action.CUSTOMER_EDIT,
               {"customer_id": current.id, "email": current.email, "changed": list(changed)})
        after = _read(conn, current.id, lock=False)
        conn.commit()
    return EditResult(after, changed)


def validate_changes(email: str, changes: CustomerChanges) -> dict[str, Any]:
    """The stored values of `changes`, checked exactly as an imported row's cells are:
    {"name": ..., "name_norm": ..., "_tags": [...], "tags_norm": ..., "subscribed": 0|1}."""
    cells: dict[str | None, str] = {"email": email}
    for name in ("name", "phone", "city"):
        value = getattr(changes, name)
        if value is not None:
            cells[name] = value
    if changes.tags is not None:
        for label in changes.tags:
            if "|" in label:  # the import's separator, and tags_norm's
                raise CustomerEditError(f"tags: {label.strip()!r} contains '|', which a tag "
                                        "cannot hold")
        cells["tags"] = "|".join(changes.tags)
    if changes.subscribed is not None:
        cells["subscribed"] = "true" if changes.subscribed else "false"
    names = list(cells)
    cleaned, bad, char = clean_cells(list(cells.values()))
    if bad is not None:
        raise CustomerEditError(
            f"{names[bad]}: contains a control character ({char}); only tab is allowed")
    row = CsvRow(0, dict(zip(names, cleaned, strict=True)))
    try:
        out = validate_customer(row, {n for n in names if n is not None}, None)
    except RowError as exc:
        raise CustomerEditError(f"{exc.column}: {exc.reason}") from None
    return out


def _read(conn: Connection, key: int | str, *, lock: bool) -> EditableCustomer:
    cols = (c.id, c.email, c.name, c.phone, c.city, c.subscribed, c.tags_norm)
    where = c.id == key if isinstance(key, int) else c.email_norm == key.strip().lower()
    stmt = select(*cols).where(where)
    if lock and conn.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise CustomerNotFound(f"no customer {'with id ' if isinstance(key, int) else ''}"
                               f"{key}")
    names = conn.execute(
        select(tags_table.c.name)
        .join(customer_tags, customer_tags.c.tag_id == tags_table.c.id)
        .where(customer_tags.c.customer_id == row.id)
        .order_by(tags_table.c.name_norm)
    ).scalars().all()
    version = CustomerVersion(row.name, row.phone, row.city, bool(row.subscribed),
                              row.tags_norm or "")
    return EditableCustomer(int(row.id), row.email, row.name, row.phone, row.city,
                            bool(row.subscribed), tuple(names), version)


def _changed(current: EditableCustomer, values: dict[str, Any]) -> tuple[str, ...]:
    out = []
    for name in EDITABLE:
        if name == "tags":
            if "_tags" in values and values["tags_norm"] != current.version.tags_norm:
                out.append(name)
        elif name == "subscribed":
            if name in values and bool(values[name]) != current.subscribed:
                out.append(name)
        elif name in values and values[name] != getattr(current, name):
            out.append(name)
    return tuple(out)


def _write(conn: Connection, customer_id: int, values: dict[str, Any],
           changed: tuple[str, ...]) -> None:
    """The import's columns for each changed field; tags through the import's tag writer."""
    sets: dict[str, Any] = {}
    for name in changed:
        if name == "subscribed":
            sets[name] = bool(values[name])
        elif name == "tags":
            sets["tags_norm"] = values["tags_norm"]
        else:
            sets[name] = values[name]
            sets[f"{name}_norm"] = values[f"{name}_norm"]
    conn.execute(update(customers).where(c.id == customer_id).values(sets))
    if "tags" in changed:
        replace_customer_tags(conn, [(customer_id, values["_tags"])], [customer_id])
