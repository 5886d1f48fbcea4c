"""Customers: the customers table's queries and exports, edits, aggregates, demo data.

The face is lazy (core/faces.py), so importing and customers may name each other."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minicrm_desktop.services.core.faces import lazy_face

if TYPE_CHECKING:
    from .aggregates import refresh_aggregates, sqlite_signup_stored
    from .edits import CustomerChanges, CustomerEditError, edit_customer
    from .jobs import seed_demo_job
    from .seed import SeedReport, seed_demo_data

__getattr__ = lazy_face(__name__, {
    "aggregates": ("refresh_aggregates", "sqlite_signup_stored"),
    "edits": ("CustomerChanges", "CustomerEditError", "edit_customer"),
    "jobs": ("seed_demo_job",),
    "seed": ("SeedReport", "seed_demo_data"),
})

__all__ = [
    "CustomerChanges",
    "CustomerEditError",
    "SeedReport",
    "edit_customer",
    "refresh_aggregates",
    "seed_demo_data",
    "seed_demo_job",
    "sqlite_signup_stored",
]
