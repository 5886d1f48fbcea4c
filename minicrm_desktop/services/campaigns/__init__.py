"""Campaigns: drafts, launch (audience frozen), delivery through the vendor, history.

The face names what other features use; it is lazy (core/faces.py) so the delivery
machinery loads only when asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minicrm_desktop.services.core.faces import lazy_face

if TYPE_CHECKING:
    from .abtest import VariantResult, results_of_test_share
    from .email import SENDER_NAME_LIMIT, email_problem
    from .history import campaign_details
    from .templates import TOKENS, TemplateError, parse_template

__getattr__ = lazy_face(__name__, {
    "abtest": ("VariantResult", "results_of_test_share"),
    "email": ("SENDER_NAME_LIMIT", "email_problem"),
    "history": ("campaign_details",),
    "templates": ("TOKENS", "TemplateError", "parse_template"),
})

__all__ = [
    "SENDER_NAME_LIMIT",
    "TOKENS",
    "TemplateError",
    "VariantResult",
    "campaign_details",
    "email_problem",
    "parse_template",
    "results_of_test_share",
]
