"""`minicrm campaign send|list|show|resume|pause|cancel|log|test-send|reschedule|drafts` and
`minicrm vendor ledger`."""

from __future__ import annotations

import argparse
import json
import re
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
from ..services.campaigns.drafts import reschedule_campaign
from ..services.campaigns.email import EmailDefaults
from ..services.campaigns.events import CampaignCounts
from ..services.campaigns.headless import run_until_settled
from ..services.campaigns.launch import (
    AB_METRICS,
    CampaignDraft,
    CampaignError,
    create_campaign,
    launch_campaign,
)
from ..services.campaigns.testsend import MAX_TEST_ADDRESSES, send_test
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
        dest="action", required=True,
        metavar="{send,list,show,resume,pause,cancel,log,test-send,reschedule,drafts}",
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
        "{first_name|fallback} {name} {city} {total_spend} {last_order_date} "
        "{unsubscribe_url}",
    )
    send.add_argument("--subject", default="", metavar="TEXT",
                      help="email subject, with tokens like the message (default: the name)")
    send.add_argument("--sender-name", default=None, metavar="NAME",
                      help="email sender name (default: from Settings)")
    send.add_argument("--from", dest="sender_address", default=None, metavar="ADDRESS",
                      help="email from-address (default: from Settings)")
    send.add_argument("--footer", default=None, metavar="TEXT",
                      help="email footer (default: from Settings). Every email must carry "
                      "{unsubscribe_url}, in the message or the footer; --footer '' for none")
    send.add_argument("--ab-test-share", type=_percent, default=None, metavar="PERCENT",
                      help="A/B with a winner: send the variants to this share of the "
                      "audience, then the winning variant to the rest")
    send.add_argument("--ab-wait", type=_duration, default=None, metavar="TIME",
                      help="how long after launch the winner is chosen: 90s, 30m, 2h, 1d "
                      "(default 1h)")
    send.add_argument("--ab-metric", choices=AB_METRICS, default="delivered",
                      help="choose the winner by delivery rate or by the vendor's opens")
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
    send.add_argument(
        "--vendor-open-rate",
        type=_fraction,
        default=0.0,
        metavar="P",
        help="share of delivered emails the simulated recipients open (default 0)",
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
        help="cancel a campaign: its unsent recipients are never sent (\"cancelled\")",
        description="Cancel a draft, scheduled, running or paused campaign, without asking "
        "for confirmation. Recipients not yet sent are marked skipped, by the process "
        "delivering it (within one lease heartbeat) or at once when none is.",
    )
    cancel.add_argument("id", type=int)
    cancel.set_defaults(handler=_cancel)

    log = actions.add_parser("log", help="the per-recipient log")
    log.add_argument("id", type=int)
    log.add_argument("--csv", action="store_true", help="print CSV (default: a table)")
    log.set_defaults(handler=_log)

    test = actions.add_parser(
        "test-send",
        help="send an email campaign's variants to yourself or a few addresses",
        description="Each variant goes through the campaign's vendor to each address, "
        "marked as a test: the campaign's figures do not change.",
    )
    test.add_argument("id", type=int)
    test.add_argument("--to", action="append", metavar="ADDRESS",
                      help=f"an address (repeat, up to {MAX_TEST_ADDRESSES}; default: yours)")
    test.add_argument("--variant", choices=["A", "B", "C"], help="only this variant")
    test.add_argument("--ledger", type=Path, metavar="PATH")
    test.set_defaults(handler=_test_send)

    reschedule = actions.add_parser(
        "reschedule", help="move a scheduled campaign to another time, before it starts"
    )
    reschedule.add_argument("id", type=int)
    reschedule.add_argument("--at", type=iso_datetime, required=True, metavar="ISO",
                            help="the new time (no offset means UTC)")
    reschedule.set_defaults(handler=_reschedule)

    drafts = actions.add_parser("drafts", help="campaigns saved unfinished from the wizard")
    drafts.add_argument("--json", action="store_true", help="print JSON")
    drafts.set_defaults(handler=_drafts)

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


def _percent(text: str) -> int:
    try:
        value = int(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole percent, got {text!r}") from None
    if not 1 <= value <= 99:
        raise argparse.ArgumentTypeError(f"must be 1 to 99 percent, got {value}")
    return value


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+)([smhd])")


def _duration(text: str) -> int:
    """Seconds from "90s", "30m", "2h", "1h30m", "1d" (a bare number: seconds)."""
    value = text.strip().lower()
    if value.isdigit():
        return int(value)
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise argparse.ArgumentTypeError(
            f"expected a time like 90s, 30m, 2h or 1h30m, got {text!r}")
    return sum(int(n) * _UNITS[u] for n, u in parts)


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
    email = EmailDefaults()
    if args.channel == Channel.EMAIL.value and None in (
        args.sender_name, args.sender_address, args.footer
    ):
        email = EmailDefaults.from_settings(ctx.settings())
    if args.ab_test_share is None and (args.ab_wait is not None or args.ab_metric != "delivered"):
        raise CampaignError("--ab-wait and --ab-metric need --ab-test-share")
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
            open_rate=args.vendor_open_rate,
        ),
        subject=args.subject,
        sender_name=email.sender_name if args.sender_name is None else args.sender_name,
        sender_address=(email.sender_address if args.sender_address is None
                        else args.sender_address),
        footer=email.footer if args.footer is None else args.footer,
        ab_test_share=args.ab_test_share,
        ab_wait_seconds=3600 if args.ab_wait is None else args.ab_wait,
        ab_metric=args.ab_metric,
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
    if not store.set_status(engine, args.id, CampaignStatus.CANCELLED, cancellable,
                            audit=(actor, Action.CAMPAIGN_CANCEL)):
        status = _status_of(ctx, args.id).counts.status
        raise CampaignError(f"campaign {args.id} is {status}: it can no longer be cancelled")
    # Settle now unless a live process delivers it: that one skips the rest itself.
    store.finish_if_done(engine, args.id)
    state = _status_of(ctx, args.id)
    if state.owner:
        print(f"campaign {args.id} cancelled; {state.owner} stops sending within a few "
              "seconds and marks the unsent recipients cancelled")
    else:
        counts = state.counts
        unsent = counts.audience - counts.sent - counts.failed - counts.skipped
        print(f"campaign {args.id} cancelled; {unsent} unsent recipients cancelled "
              f"({counts.sent} had been sent)")
    return EXIT_OK


def _test_send(ctx: CliContext, args: argparse.Namespace) -> int:
    messages = send_test(ctx.engine(), args.id, args.to, actor=ctx.actor(),
                         ledger_path=args.ledger, variant=args.variant)
    for m in messages:
        outcome = "sent" if m.sent else f"failed: {m.reason}"
        print(f"test {m.variant} to {m.address}: {outcome} (subject: {m.subject}; key {m.key})")
    return EXIT_OK


def _reschedule(ctx: CliContext, args: argparse.Namespace) -> int:
    before = reschedule_campaign(ctx.engine(), args.id, args.at, actor=ctx.actor())
    was = f" (was {before.isoformat()})" if before else ""
    print(f"campaign {args.id} now starts at {args.at.isoformat()}{was}")
    return EXIT_OK


def _drafts(ctx: CliContext, args: argparse.Namespace) -> int:
    rows = [row.__dict__ for row in history.list_drafts(ctx.engine())]
    if args.json:
        _print_json(rows)
    else:
        for row in rows:
            print(f"{row['id']:>6}  {row['step']:<8} {row['name']}  saved {row['updated_at']}")
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
        ab = details.pop("ab_test", None)
        lines = describe_campaign(details)
        if ab is not None:
            lines.append(_describe_ab(ab))
        print("\n".join(lines))
    return EXIT_OK


def _describe_ab(ab: dict[str, Any]) -> str:
    """One line: the test, and the winner with why (or when it will be chosen)."""
    wait = int(ab["wait_seconds"] or 0)
    test = (f"ab_test: {ab['test_share_percent']}% of the audience tests the variants, the "
            f"winner by {ab['metric']} after {wait // 3600}h{wait % 3600 // 60:02d}m"
            f"{wait % 60:02d}s")
    if ab["winner"]:
        return f"{test}; winner {ab['reason']}"
    when = ab["decide_at"].isoformat() if ab["decide_at"] else "at launch"
    return f"{test}; winner not chosen yet ({ab['held']} held, chosen from {when})"


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1%}"


def describe_campaign(info: dict[str, Any]) -> list[str]:
    """`campaign show` in words and aligned figures (no Python reprs, rounded rates)."""
    lines = [f"Campaign {info['id']}: {info['name']}"]
    fields = [("Channel", info["channel"]), ("Status", info["status"]),
              ("Objective", info.get("objective") or ""), ("Subject", info.get("subject") or ""),
              ("Sender", info.get("sender") or "")]
    if info.get("test_sends"):
        fields.append(("Test sends", f"{info['test_sends']:,}"))
    for key in ("scheduled_at", "created_at", "started_at", "finished_at"):
        if info.get(key) is not None:
            fields.append((key.split("_")[0].capitalize(), f"{info[key]:%Y-%m-%d %H:%M:%S} UTC"))
    for key in ("audience", "sent", "failed", "skipped", "cancelled"):
        fields.append((key.capitalize(), f"{info.get(key, 0):,}"))
    fields.append(("Success rate", _rate(info.get("success_rate"))))
    lines += [f"  {label + ':':<14}{value}" for label, value in fields if value != ""]
    if info.get("variants"):
        lines.append("Variants:")
        for v in info["variants"]:
            tried = v["sent"] + v["failed"]
            rate = _rate(None if tried == 0 else v["sent"] / tried)
            lines.append(f"  {v['label']}  sent {v['sent']:,}, failed {v['failed']:,}, "
                         f"skipped {v['skipped']:,}, cancelled {v.get('cancelled', 0):,}, "
                         f"success {rate}")
            lines.append(f"     {v['template']}")
    for title, key in (("Failed, by reason", "failure_reasons"),
                       ("Skipped, by reason", "skip_reasons")):
        if info.get(key):
            lines.append(f"{title}:")
            lines += [f"  {n:>8,}  {reason or '(none)'}" for reason, n in info[key]]
    return lines


#: `campaign log` as a table: (column, width); the last one is not padded.
LOG_TABLE = (("email", 34), ("variant", 7), ("status", 9), ("attempts", 8),
             ("updated (UTC)", 19), ("reason", 0))


def _log(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.csv:
        history.write_log_csv(ctx.engine(), args.id, sys.stdout)
        return EXIT_OK
    print("  ".join(f"{name:<{width}}" for name, width in LOG_TABLE).rstrip())
    for row in history.iter_log(ctx.engine(), args.id):
        cells = (row.email.lower(), row.variant, row.status, str(row.attempts),
                 f"{row.updated_at:%Y-%m-%d %H:%M:%S}", row.reason or "")
        print("  ".join(f"{cell:<{width}}" for cell, (_, width) in zip(cells, LOG_TABLE,
                                                                       strict=True)).rstrip())
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
