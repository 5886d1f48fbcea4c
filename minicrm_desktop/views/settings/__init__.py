"""The Settings page and its sections (account, AI server, email defaults, MySQL TLS), and
the audited way a section changes a setting.

The names below are this folder's public face: other view folders import only these
(tests/test_layers.py checks it).
"""

from minicrm_desktop.views.settings.account import install_account_ui
from minicrm_desktop.views.settings.ai import AISettingsGroup
from minicrm_desktop.views.settings.changes import SettingChanges
from minicrm_desktop.views.settings.email import EmailSettingsGroup
from minicrm_desktop.views.settings.page import SettingsPage
from minicrm_desktop.views.settings.tls import MysqlTlsGroup

__all__ = [
    "AISettingsGroup", "EmailSettingsGroup", "MysqlTlsGroup", "SettingChanges", "SettingsPage",
    "install_account_ui",
]
