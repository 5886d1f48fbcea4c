"""The Campaigns page: the list, the new-campaign wizard, a campaign's detail with its
charts and log, the delivery control, summaries and variant suggestions.

The names below are this folder's public face: other view folders import only these
(tests/test_layers.py checks it).
"""

from minicrm_desktop.views.campaigns.control import CampaignControl
from minicrm_desktop.views.campaigns.page import CampaignsPage

__all__ = ["CampaignControl", "CampaignsPage"]
