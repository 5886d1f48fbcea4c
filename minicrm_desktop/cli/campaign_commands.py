"""`minicrm campaign send|list|show|resume|pause|cancel|log` and `minicrm vendor ledger`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from minicrm_desktop.services.core.csv_export import csv_writer

from ..errors import ConfigError
from ..models.campaign import CampaignStatus, Channel
from ..services.access.actor import Permission
from ..services.access.audit import Action
from ..services.access.users import authorize
from ..services.campaigns import history, store
from ..services.campaigns.events import CampaignCounts
from ..services.campaigns.headless import run_until_settled
from ..services.campaigns.launch import (
    CampaignDraft,
    CampaignError,
    create_campaign,
    launch_campaign,
)
from ..services.campaigns.vendor import VendorConfig, VendorLedger, default_ledger_path
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
        dest="action", required=True, metavar="{send,list,show,resume,pause,cancel,log}"
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
    send.add_argument("--rate", type=_at_least_one, metavar="N",
                      help="at most N messages a second")
    send.add_argument(
        "--workers", type=_at_least_one, default=8, metavar="N",
        help="concurrent senders (default 8)",
    )
    send.add_argument(
        "--max-attempts",
        type=_at_least_one,
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
        "vendor answers with the first outcome instead of sending twice. While another "
        "process or installation delivers the campaign, this one waits, and takes over "
        "if that one stops renewing its lease.",
    )
    resume.add_argument("id", type=int)
    resume.add_argument("--workers", type=_at_least_one, default=8, metavar="N")
    resume.add_argument("--ledger", type=Path, metavar="PATH")
    resume.add_argument("--retry-seconds", type=float, default=None, metavar="S")
    resume.set_defaults(handler=_resume)

    pause = actions.add_parser(
        "pause",
        help="pause a running campaign, wherever it is being sent",
        description="Mark the campaign paused. The process delivering it (this or another "
        "installation) stops within one lease heartbeat; `campaign resume` continues it.",
    )
    pause.add_argument("id", type=int)
    pause.set_defaults(handler=_pause)

    cancel = actions.add_parser(
        "cancel",
        help="cancel a campaign: its unsent recipients are skipped",
        description="Cancel a draft, scheduled, running or paused campaign, without asking "
        "for confirmation. Recipients not yet sent are marked skipped, by the process "
        "delivering it (within one lease heartbeat) or at once when none is.",
    )
    cancel.add_argument("id", type=int)
    cancel.set_defaults(handler=_cancel)

    log = actions.add_parser("log", help="the per-recipient log")
    log.add_argument("id", type=int)
    log.add_argument("--csv", action="store_true", help="print CSV (the default)")
    log.set_defaults(handler=_log)

    vendor = commands.add_parser("vendor", help="the simulated messaging vendor")
    vendor_actions = vendor.add_subparsers(dest="action", required=True, metavar="{ledger}")
    ledger = vendor_actions.add_parser(
        "ledger", help="every message the vendor accepted, by idempotency key"
    )
    ledger.add_argument("--campaign", type=int, metavar="ID",
                        help="only the messages of this database's campaign ID")
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


def _at_least_one(text: str) -> int:
    """A whole number of at least 1 (argparse names the option in its message)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _waiting(campaign_id: int) -> Callable[[str], None]:
    def say(owner: str) -> None:
        print(f"campaign {campaign_id} is being delivered by {owner}; waiting until it "
              "finishes, or takes over if it stops", file=sys.stderr, flush=True)

    return say


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
        on_waiting=_waiting(campaign_id),
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
        on_waiting=_waiting(args.id),
    )
    return _print_summary(result)


def _status_of(ctx: CliContext, campaign_id: int) -> store.DeliveryState:
    state = store.delivery_state(ctx.engine(), campaign_id)
    if state is None:
        raise CampaignError(f"there is no campaign {campaign_id}")
    return state


def _pause(ctx: CliContext, args: argparse.Namespace) -> int:
    engine, actor = ctx.engine(), ctx.actor()
    authorize(engine, actor, Permission.CONTROL_CAMPAIGNS)
    before = _status_of(ctx, args.id)
    if not store.set_status(engine, args.id, CampaignStatus.PAUSED, [CampaignStatus.RUNNING],
                            audit=(actor, Action.CAMPAIGN_PAUSE)):
        status = _status_of(ctx, args.id).counts.status
        raise CampaignError(f"campaign {args.id} is {status}: only a running campaign can "
                            "be paused")
    who = f"; {before.owner} stops sending within a few seconds" if before.owner else ""
    print(f"campaign {args.id} paused{who}")
    return EXIT_OK


def _cancel(ctx: CliContext, args: argparse.Namespace) -> int:
    engine, actor = ctx.engine(), ctx.actor()
    authorize(engine, actor, Permission.CONTROL_CAMPAIGNS)
    cancellable = [CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.SCHEDULED,
                   CampaignStatus.DRAFT]
    before = _status_of(ctx, args.id).counts.skipped
    if not store.set_status(engine, args.id, CampaignStatus.CANCELLED, cancellable,
                            audit=(actor, Action.CAMPAIGN_CANCEL)):
        status = _status_of(ctx, args.id).counts.status
        raise CampaignError(f"campaign {args.id} is {status}: it can no longer be cancelled")
    # Settle now unless a live process delivers it: that one skips the rest itself.
    store.finish_if_done(engine, args.id)
    state = _status_of(ctx, args.id)
    if state.owner:
        print(f"campaign {args.id} cancelled; {state.owner} stops sending within a few "
              "seconds and marks the unsent recipients skipped")
    else:
        print(f"campaign {args.id} cancelled; {state.counts.skipped - before} unsent "
              f"recipients skipped ({state.counts.sent} had been sent)")
    return EXIT_OK


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
    # The ledger may be shared by several databases, whose campaign ids repeat: keep the
    # entries whose keys this database's campaign froze.
    keys = None if args.campaign is None else store.message_keys(ctx.engine(), args.campaign)
    for entry in VendorLedger.read_entries(path, args.campaign):
        if keys is not None and entry.key not in keys:
            continue
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
