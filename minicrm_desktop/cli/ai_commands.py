"""`minicrm ai variants "OBJECTIVE"`: message ideas as JSON (see spec/data-and-cli.md)."""

from __future__ import annotations

import argparse
import json

from ..services.ai.variants import CHANNELS, TONES, suggest_variants
from .ai_config import cli_ai_config
from .context import CliContext


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ai = commands.add_parser(
        "ai",
        help="AI help: message variants",
        description="AI help from the configured model (Settings → AI assistant, "
        "OPENAI_API_KEY) or, offline, from built-in templates. No customer data is sent.",
    )
    actions = ai.add_subparsers(dest="action", metavar="{variants}", required=True)
    variants = actions.add_parser(
        "variants",
        help="suggest two or three message variants for an objective",
        description='Print two or three message variants for OBJECTIVE (e.g. "Win back '
        'inactive users") as JSON: intent, channel, engine, notice, variants[].text. '
        "Variants use personalisation tokens such as {first_name|there}; SMS variants fit "
        "160 characters.",
    )
    variants.add_argument("objective", metavar="OBJECTIVE", help="what the campaign is for")
    variants.add_argument("--channel", choices=CHANNELS, default="email",
                          help="email (default) or sms")
    variants.add_argument("--tone", choices=TONES, default="friendly",
                          help="the voice of the messages (default: friendly)")
    variants.add_argument("--offline", action="store_true",
                          help="use the built-in templates, never the model")
    variants.set_defaults(handler=_variants)


def _variants(ctx: CliContext, args: argparse.Namespace) -> int:
    config = cli_ai_config(offline=args.offline)
    answer = suggest_variants(config, args.objective, args.channel, args.tone)
    print(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
    return 0
