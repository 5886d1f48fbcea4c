"""The Campaigns page: the list, the new-campaign wizard, a campaign's detail with its
charts and log, the delivery control, summaries and variant suggestions.

The names below are this folder's public face: other view folders import only these
(tests/test_layers.py checks it).
The face is lazy (services/core/faces.py): a module loads when one of its names is
first used, so importing the face costs nothing at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minicrm_desktop.services.core.faces import lazy_face

if TYPE_CHECKING:
    from .control import CampaignControl
    from .page import CampaignsPage

__getattr__ = lazy_face(__name__, {
    "control": ("CampaignControl",),
    "page": ("CampaignsPage",),
})

__all__ = ["CampaignControl", "CampaignsPage"]
