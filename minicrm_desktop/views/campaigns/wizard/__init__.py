"""The New campaign wizard (one module per page)."""

from minicrm_desktop.views.campaigns.wizard.dialog import CampaignWizard

__all__ = ["CampaignWizard"]
