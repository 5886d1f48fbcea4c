"""CSV import of customers and orders, as the data-and-cli contract specifies."""

from .customers import CUSTOMER_FIELDS, import_customers
from .detect import ColumnFormat, Example, FormatReport, detect_format
from .kinds import WrongKindError
from .options import STRICT, ImportOptions
from .orders import ORDER_FIELDS, import_orders
from .rejected import export_rejected_rows
from .report import ImportProgress, ImportReport, RejectedRow

__all__ = [
    "CUSTOMER_FIELDS",
    "ORDER_FIELDS",
    "STRICT",
    "ColumnFormat",
    "Example",
    "FormatReport",
    "ImportOptions",
    "ImportProgress",
    "ImportReport",
    "RejectedRow",
    "WrongKindError",
    "detect_format",
    "export_rejected_rows",
    "import_customers",
    "import_orders",
]
