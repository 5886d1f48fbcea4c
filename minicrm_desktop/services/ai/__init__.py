"""AI assistance: sentences to segment rules, message variants and campaign summaries.

Two engines answer: an OpenAI-compatible model when one is configured (`openai_client`),
and a deterministic offline engine that needs no network (`offline_parser`, the offline
halves of `variants` and `summary`). `assistant` picks one and falls back where it can.
Nothing here imports QtWidgets; no customer's personal data is ever sent to a model.
The face is lazy (core/faces.py): the client and the parser load when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minicrm_desktop.services.core.faces import lazy_face

if TYPE_CHECKING:
    from .assistant import RuleAnswer, load_vocabulary, sentence_to_rule
    from .config import ENV_KEY, AIConfig, AISettings, load_config
    from .openai_client import Cancelled
    from .summary import (
        CampaignFigures,
        Summary,
        campaign_figures,
        figures_from_details,
        summarise,
    )
    from .variants import (
        CHANNELS,
        SMS_LIMIT,
        TONES,
        VariantsAnswer,
        sms_length,
        suggest_variants,
    )

__getattr__ = lazy_face(__name__, {
    "assistant": ("RuleAnswer", "load_vocabulary", "sentence_to_rule"),
    "config": ("ENV_KEY", "AIConfig", "AISettings", "load_config"),
    "openai_client": ("Cancelled",),
    "summary": (
        "CampaignFigures",
        "Summary",
        "campaign_figures",
        "figures_from_details",
        "summarise",
    ),
    "variants": (
        "CHANNELS",
        "SMS_LIMIT",
        "TONES",
        "VariantsAnswer",
        "sms_length",
        "suggest_variants",
    ),
})

__all__ = [
    "CHANNELS",
    "ENV_KEY",
    "SMS_LIMIT",
    "TONES",
    "AIConfig",
    "AISettings",
    "CampaignFigures",
    "Cancelled",
    "RuleAnswer",
    "Summary",
    "VariantsAnswer",
    "campaign_figures",
    "figures_from_details",
    "load_config",
    "load_vocabulary",
    "sentence_to_rule",
    "sms_length",
    "suggest_variants",
    "summarise",
]
