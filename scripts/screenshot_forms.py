"""Pictures of issue 17's forms for docs/screenshots: the import preview reading a file's
formats (Indian grouping, ₹/Rs/INR, day-first dates) and saying what it will do, and a
customer's details being edited. `scripts/screenshots.py` calls these with its running app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: An orders file as a spreadsheet in India writes it: signs, Indian grouping, day-first.
FORMATTED_ORDERS = (
    "order_id,customer_email,amount,order_date\n"
    "F-1001,user1@example.com,\"₹1,00,000\",31/12/2024\n"
    "F-1002,user2@example.com,\"Rs. 2,499.50\",15/01/2025\n"
    "F-1003,user3@example.com,INR 750,02/02/2025\n"
)


def shoot_import_formats(app: object, window: Any, out: Path, folder: Path) -> None:
    """The import dialog's preview once it has read the file's formats."""
    from screenshots import save_dialog, wait_for

    dialog = window.open_import()
    dialog.set_kind("orders")
    path = folder / "orders-from-excel.csv"
    path.write_text(FORMATTED_ORDERS, encoding="utf-8")
    dialog.load_file(path)
    wait_for(app, lambda: not dialog.detecting)
    dialog.resize(900, 640)
    save_dialog(app, window, dialog, out / "import-formats.png")
    dialog.reject()


def shoot_customer_edit(app: object, window: Any, out: Path) -> None:
    """The selected customer's details with the edit form open."""
    from screenshots import save, wait_for

    window.show_page("customers")
    detail = window.customers_page.detail
    wait_for(app, lambda: detail.detail is not None)
    detail.start_edit()
    wait_for(app, lambda: detail.editing is not None)
    save(app, window, out / "customer-edit.png")
    detail.cancel_edit()
