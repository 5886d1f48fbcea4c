"""What every page of the New campaign wizard shares: the base page that asks the
Qt-free `services.campaigns.wizard` for the next step, and the error label."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtWidgets import QLabel, QWizardPage

from minicrm_desktop.services.campaigns import wizard as steps
from minicrm_desktop.services.campaigns.wizard import PageId
from minicrm_desktop.views.common.widgets import ERROR_COLOR

if TYPE_CHECKING:
    from minicrm_desktop.views.campaigns.wizard.dialog import CampaignWizard


SAMPLE_CUSTOMERS = 3
UNTOUCHED = "Hi {first_name|there}, "  # the first variant's starting text
LABELS = "ABC"


def error_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {ERROR_COLOR.name()};")
    return label


class StepPage(QWizardPage):
    page_id: PageId

    def campaign_wizard(self) -> CampaignWizard:
        return cast("CampaignWizard", self.wizard())

    def nextId(self) -> int:
        wizard = self.wizard()
        if wizard is None:
            return -1
        return steps.next_page(self.page_id, self.campaign_wizard().state())
