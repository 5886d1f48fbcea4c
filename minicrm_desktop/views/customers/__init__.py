"""The Customers page: the table and its model, the detail panel, the import and
demo-data dialogs.

The names below are this folder's public face: other view folders import only these
(tests/test_layers.py checks it).
The face is lazy (services/core/faces.py): a module loads when one of its names is
first used, so importing the face costs nothing at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minicrm_desktop.services.core.faces import lazy_face

if TYPE_CHECKING:
    from .demo_data_dialog import DemoDataDialog, should_offer_demo
    from .import_dialog import ImportDialog
    from .page import CustomersPage

__getattr__ = lazy_face(__name__, {
    "demo_data_dialog": ("DemoDataDialog", "should_offer_demo",),
    "import_dialog": ("ImportDialog",),
    "page": ("CustomersPage",),
})

__all__ = ["CustomersPage", "DemoDataDialog", "ImportDialog", "should_offer_demo"]
