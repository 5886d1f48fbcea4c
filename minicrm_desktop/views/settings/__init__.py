"""The Settings page and its sections (account, AI server, email defaults, MySQL TLS), and
the audited way a section changes a setting.

The names below are this folder's public face: other view folders import only these
(tests/test_layers.py checks it).
The face is lazy (services/core/faces.py): a module loads when one of its names is
first used, so importing the face costs nothing at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minicrm_desktop.services.core.faces import lazy_face

if TYPE_CHECKING:
    from .account import install_account_ui
    from .ai import AISettingsGroup
    from .changes import SettingChanges
    from .email import EmailSettingsGroup
    from .page import SettingsPage
    from .tls import MysqlTlsGroup

__getattr__ = lazy_face(__name__, {
    "account": ("install_account_ui",),
    "ai": ("AISettingsGroup",),
    "changes": ("SettingChanges",),
    "email": ("EmailSettingsGroup",),
    "page": ("SettingsPage",),
    "tls": ("MysqlTlsGroup",),
})

__all__ = [
    "AISettingsGroup", "EmailSettingsGroup", "MysqlTlsGroup", "SettingChanges", "SettingsPage",
    "install_account_ui",
]
