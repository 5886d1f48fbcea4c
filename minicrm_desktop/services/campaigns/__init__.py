"""Campaigns: drafts, launch (audience frozen), delivery through the vendor, history.

The face names what other features use; it is lazy (core/faces.py) so the delivery
machinery loads only when asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minicrm_desktop.services.core.faces import lazy_face

if TYPE_CHECKING:
    from .history import campaign_details
    from .templates import TOKENS, TemplateError, parse_template

__getattr__ = lazy_face(__name__, {
    "history": ("campaign_details",),
    "templates": ("TOKENS", "TemplateError", "parse_template"),
})

__all__ = [
    "TOKENS",
    "TemplateError",
    "campaign_details",
    "parse_template",
]
