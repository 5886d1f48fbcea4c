"""CSV import of customers and orders, as the data-and-cli contract specifies."""

from .customers import CUSTOMER_FIELDS, import_customers
from .orders import ORDER_FIELDS, import_orders
from .report import ImportProgress, ImportReport, RejectedRow

__all__ = [
    "CUSTOMER_FIELDS",
    "ORDER_FIELDS",
    "ImportProgress",
    "ImportReport",
    "RejectedRow",
    "import_customers",
    "import_orders",
]
