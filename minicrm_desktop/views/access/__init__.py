"""Who may do what, on screen: the Users and Audit pages and the sign-in dialog.

The names below are this folder's public face: other view folders import only these
(tests/test_layers.py checks it).
"""

from minicrm_desktop.views.access.audit_page import AuditPage
from minicrm_desktop.views.access.sign_in_dialog import sign_in_at_start
from minicrm_desktop.views.access.users_page import UsersPage

__all__ = ["AuditPage", "UsersPage", "sign_in_at_start"]
