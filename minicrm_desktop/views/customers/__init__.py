"""The Customers page: the table and its model, the detail panel, the import and
demo-data dialogs.

The names below are this folder's public face: other view folders import only these
(tests/test_layers.py checks it).
"""

from minicrm_desktop.views.customers.demo_data_dialog import DemoDataDialog, should_offer_demo
from minicrm_desktop.views.customers.import_dialog import ImportDialog
from minicrm_desktop.views.customers.page import CustomersPage

__all__ = ["CustomersPage", "DemoDataDialog", "ImportDialog", "should_offer_demo"]
