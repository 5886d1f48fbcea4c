"""CSV import of customers and orders, as the data-and-cli contract specifies.

The face is lazy (core/faces.py), so importing and customers may name each other."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minicrm_desktop.services.core.faces import lazy_face

if TYPE_CHECKING:
    from .batches import RowError
    from .customers import import_customers, replace_customer_tags, validate_customer
    from .detect import ColumnFormat, Example, FormatReport, detect_format
    from .jobs import import_file_job
    from .kinds import CUSTOMER_FIELDS, WrongKindError
    from .options import AMOUNT_READINGS, DATE_ORDERS, STRICT, DateOrder, ImportOptions
    from .orders import ORDER_FIELDS, import_orders
    from .reader import CsvRow
    from .rejected import export_rejected_rows
    from .report import ImportProgress, ImportReport, RejectedRow
    from .values import clean_cells, parse_bool, parse_tags

__getattr__ = lazy_face(__name__, {
    "batches": ("RowError",),
    "customers": ("import_customers", "replace_customer_tags", "validate_customer"),
    "detect": ("ColumnFormat", "Example", "FormatReport", "detect_format"),
    "jobs": ("import_file_job",),
    # The field names alone (the customers page's export) need not load the importer.
    "kinds": ("CUSTOMER_FIELDS", "WrongKindError"),
    "options": ("AMOUNT_READINGS", "DATE_ORDERS", "STRICT", "DateOrder", "ImportOptions"),
    "orders": ("ORDER_FIELDS", "import_orders"),
    "reader": ("CsvRow",),
    "rejected": ("export_rejected_rows",),
    "report": ("ImportProgress", "ImportReport", "RejectedRow"),
    "values": ("clean_cells", "parse_bool", "parse_tags"),
})

__all__ = [
    "AMOUNT_READINGS",
    "CUSTOMER_FIELDS",
    "DATE_ORDERS",
    "ORDER_FIELDS",
    "STRICT",
    "ColumnFormat",
    "CsvRow",
    "DateOrder",
    "Example",
    "FormatReport",
    "ImportOptions",
    "ImportProgress",
    "ImportReport",
    "RejectedRow",
    "RowError",
    "WrongKindError",
    "clean_cells",
    "detect_format",
    "export_rejected_rows",
    "import_customers",
    "import_file_job",
    "import_orders",
    "parse_bool",
    "parse_tags",
    "replace_customer_tags",
    "validate_customer",
]
