"""`minicrm campaign send|list|show|resume|pause|cancel|log|test-send|reschedule|drafts` and
`minicrm vendor ledger`: all registered here; the commands that act live here, the ones
that read in campaign_reports.py."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

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
from ..services.campaigns.vendor import VendorConfig
from ..services.segments.saved import find_segment
from .campaign_reports import (
    print_json,
    show_campaign,
    show_drafts,
    show_ledger,
    show_list,
    show_log,
)
from .context import CliContext
from .parsing import at_least_one, duration, fraction, iso_datetime, percent
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
    send.add_argument("--ab-test-share", type=percent, default=None, metavar="PERCENT",
                      help="A/B with a winner: send the variants to this share of the "
                      "audience, then the winning variant to the rest")
    send.add_argument("--ab-wait", type=duration, default=None, metavar="TIME",
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
        type=fraction,
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
        type=fraction,
        default=0.0,
        metavar="P",
        help="share of delivered emails the simulated recipients open (default 0)",
    )
    send.add_argument("--rate", type=at_least_one, metavar="N",
                      help="at most N messages a second")
    send.add_argument(
        "--workers", type=at_least_one, default=8, metavar="N",
        help="concurrent senders (default 8)",
    )
    send.add_argument(
        "--max-attempts",
        type=at_least_one,
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
    lst.set_defaults(handler=show_list)

    show = actions.add_parser("show", help="one campaign's details and statistics")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=show_campaign)

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
    resume.add_argument("--workers", type=at_least_one, default=8, metavar="N")
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
    log.set_defaults(handler=show_log)

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
    drafts.set_defaults(handler=show_drafts)

    vendor = commands.add_parser("vendor", help="the simulated messaging vendor")
    vendor_actions = vendor.add_subparsers(dest="action", required=True, metavar="{ledger}")
    ledger = vendor_actions.add_parser(
        "ledger", help="every message the vendor accepted, by idempotency key"
    )
    ledger.add_argument("--campaign", type=int, metavar="ID",
                        help="only the messages of this database's campaign ID")
    ledger.add_argument("--csv", action="store_true", help="print CSV (the default)")
    ledger.add_argument("--ledger", type=Path, metavar="PATH")
    ledger.set_defaults(handler=show_ledger)


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


def _print_summary(result: CampaignCounts | None) -> int:
    """The JSON summary `campaign send` and `campaign resume` end with."""
    assert result is not None  # the campaign exists: it was just launched or found
    print_json(
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
