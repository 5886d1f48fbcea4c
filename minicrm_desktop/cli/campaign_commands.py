"""`minicrm campaign send|list|show|resume|log` and `minicrm vendor ledger`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..models.campaign import Channel
from ..services.campaigns import history
from ..services.campaigns.events import CampaignCounts
from ..services.campaigns.headless import run_until_settled
from ..services.campaigns.launch import CampaignDraft, create_campaign, launch_campaign
from ..services.campaigns.vendor import VendorConfig, VendorLedger, default_ledger_path
from ..services.csv_export import csv_writer
from ..services.segments.saved import find_segment
from .context import CliContext
from .parsing import iso_datetime
from .segment_commands import load_rule

EXIT_OK = 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    campaign = commands.add_parser(
        "campaign",
        help="send campaigns and read their history",
        description="Run campaigns without the window: the same engine and logs as the app.",
    )
    actions = campaign.add_subparsers(
        dest="action", required=True, metavar="{send,list,show,resume,log}"
    )
    send = actions.add_parser(
        "send",
        help="run a whole campaign: audience, messages, simulated delivery, logs",
        description="Freeze the audience of a rule tree or saved segment, personalise each "
        "message, send through the simulated vendor until done, and print a JSON summary "
        "(campaign_id, audience, sent, failed, skipped).",
    )
    send.add_argument("--name", required=True, help="the campaign's name")
    audience = send.add_mutually_exclusive_group(required=True)
    audience.add_argument("--rule", metavar="RULE.json", help="rule tree file (- for stdin)")
    audience.add_argument("--segment", metavar="NAME", help="a saved segment's name")
    send.add_argument(
        "--message",
        action="append",
        required=True,
        metavar="TEXT",
        help="message template; repeat for A/B/C variants (up to 3). Tokens: "
        "{first_name|fallback} {name} {city} {total_spend} {last_order_date}",
    )
    send.add_argument("--channel", choices=[c.value for c in Channel], default="email")
    send.add_argument(
        "--as-of",
        type=iso_datetime,
        metavar="ISO",
        help="clock for relative dates in the rule (default: now)",
    )
    send.add_argument(
        "--vendor-success-rate",
        type=_fraction,
        default=0.9,
        metavar="P",
        help="share of messages the vendor delivers (default 0.9)",
    )
    send.add_argument(
        "--vendor-latency-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="mean vendor latency per message (default 0)",
    )
    send.add_argument(
        "--vendor-seed",
        type=int,
        default=0,
        metavar="S",
        help="seed for reproducible vendor outcomes",
    )
    send.add_argument("--rate", type=int, metavar="N", help="at most N messages a second")
    send.add_argument(
        "--workers", type=int, default=8, metavar="N", help="concurrent senders (default 8)"
    )
    send.add_argument(
        "--max-attempts",
        type=int,
        default=3,
        metavar="N",
        help="attempts per message for transient failures (default 3)",
    )
    send.add_argument(
        "--retry-seconds",
        type=float,
        default=None,
        metavar="S",
        help="backoff before the first retry, doubling each time (default 2)",
    )
    send.add_argument(
        "--ledger",
        type=Path,
        metavar="PATH",
        help="the simulated vendor's ledger file (default: in the data folder)",
    )
    send.set_defaults(handler=_send)

    lst = actions.add_parser("list", help="campaigns, newest first")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(handler=_list)

    show = actions.add_parser("show", help="one campaign's details and statistics")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_show)

    resume = actions.add_parser(
        "resume",
        help="finish a campaign interrupted by a crash or a pause",
        description="Send what an interrupted campaign has not sent yet. Messages whose "
        "outcome was never recorded are sent again with the same idempotency key, so the "
        "vendor answers with the first outcome instead of sending twice.",
    )
    resume.add_argument("id", type=int)
    resume.add_argument("--workers", type=int, default=8, metavar="N")
    resume.add_argument("--ledger", type=Path, metavar="PATH")
    resume.add_argument("--retry-seconds", type=float, default=None, metavar="S")
    resume.set_defaults(handler=_resume)

    log = actions.add_parser("log", help="the per-recipient log")
    log.add_argument("id", type=int)
    log.add_argument("--csv", action="store_true", help="print CSV (the default)")
    log.set_defaults(handler=_log)

    vendor = commands.add_parser("vendor", help="the simulated messaging vendor")
    vendor_actions = vendor.add_subparsers(dest="action", required=True, metavar="{ledger}")
    ledger = vendor_actions.add_parser(
        "ledger", help="every message the vendor accepted, by idempotency key"
    )
    ledger.add_argument("--campaign", type=int, metavar="ID")
    ledger.add_argument("--csv", action="store_true", help="print CSV (the default)")
    ledger.add_argument("--ledger", type=Path, metavar="PATH")
    ledger.set_defaults(handler=_ledger)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _send(ctx: CliContext, args: argparse.Namespace) -> int:
    engine = ctx.engine()
    segment_id = None
    if args.segment:
        segment = find_segment(engine, args.segment)
        if segment is None:
            raise ConfigError(f"there is no saved segment named {args.segment!r}")
        rule, segment_id = segment.rule, segment.id
    else:
        rule = load_rule(args.rule)
    draft = CampaignDraft(
        name=args.name,
        channel=Channel(args.channel),
        rule=rule,
        variants=args.message,
        segment_id=segment_id,
        as_of=args.as_of,
        rate_per_second=args.rate,
        max_attempts=args.max_attempts,
        vendor=VendorConfig(
            success_rate=args.vendor_success_rate,
            latency_ms=args.vendor_latency_ms,
            seed=args.vendor_seed,
        ),
    )
    actor = ctx.actor()
    campaign_id = create_campaign(engine, draft, actor=actor)
    launch_campaign(engine, campaign_id, actor=actor)
    result = run_until_settled(
        engine,
        campaign_id,
        workers=args.workers,
        ledger_path=args.ledger,
        retry_base_seconds=args.retry_seconds,
    )
    return _print_summary(result)


def _resume(ctx: CliContext, args: argparse.Namespace) -> int:
    engine = ctx.engine()
    history.prepare_resume(engine, args.id, actor=ctx.actor())
    result = run_until_settled(
        engine,
        args.id,
        workers=args.workers,
        ledger_path=args.ledger,
        retry_base_seconds=args.retry_seconds,
    )
    return _print_summary(result)


def _list(ctx: CliContext, args: argparse.Namespace) -> int:
    rows = [row.to_dict() for row in history.list_campaigns(ctx.engine())]
    if args.json:
        _print_json(rows)
    else:
        for row in rows:
            print(
                f"{row['id']:>6}  {row['status']:<10} {row['name']}  audience {row['audience']}"
                f", sent {row['sent']}, failed {row['failed']}, skipped {row['skipped']}"
            )
    return EXIT_OK


def _show(ctx: CliContext, args: argparse.Namespace) -> int:
    details = history.campaign_details(ctx.engine(), args.id)
    if args.json:
        _print_json(details)
    else:
        for key, value in details.items():
            print(f"{key}: {value}")
    return EXIT_OK


def _log(ctx: CliContext, args: argparse.Namespace) -> int:
    history.write_log_csv(ctx.engine(), args.id, sys.stdout)
    return EXIT_OK


def _ledger(ctx: CliContext, args: argparse.Namespace) -> int:
    path = args.ledger or default_ledger_path()
    out = csv_writer(sys.stdout)
    out.writerow(["idempotency_key", "campaign_id", "email", "outcome", "reason", "accepted_at"])
    if not path.exists():
        return EXIT_OK
    for entry in VendorLedger.read_entries(path, args.campaign):
        out.writerow(
            [
                entry.key,
                entry.campaign_id,
                entry.address,
                entry.outcome,
                entry.reason or "",
                entry.accepted_at,
            ]
        )
    return EXIT_OK


def _print_summary(result: CampaignCounts | None) -> int:
    """The JSON summary `campaign send` and `campaign resume` end with."""
    assert result is not None  # the campaign exists: it was just launched or found
    _print_json(
        {
            "campaign_id": result.campaign_id,
            "status": result.status,
            "audience": result.audience,
            "sent": result.sent,
            "failed": result.failed,
            "skipped": result.skipped,
        }
    )
    return EXIT_OK


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))
