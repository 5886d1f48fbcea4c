"""Who may do what, on screen: the Users and Audit pages and the sign-in dialog.

The names below are this folder's public face: other view folders import only these
(tests/test_layers.py checks it).
The face is lazy (services/core/faces.py): a module loads when one of its names is
first used, so importing the face costs nothing at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minicrm_desktop.services.core.faces import lazy_face

if TYPE_CHECKING:
    from .audit_page import AuditPage
    from .sign_in_start import sign_in_at_start
    from .users_page import UsersPage

__getattr__ = lazy_face(__name__, {
    "audit_page": ("AuditPage",),
    "sign_in_start": ("sign_in_at_start",),
    "users_page": ("UsersPage",),
})

__all__ = ["AuditPage", "UsersPage", "sign_in_at_start"]
