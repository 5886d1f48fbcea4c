"""`minicrm customer edit EMAIL ...`, and the segment actions `minicrm segment tag NAME --tag T`
and `minicrm segment unsubscribe NAME` (registered under `segment` by segment_commands)."""

from __future__ import annotations

import argparse
import sys

from minicrm_desktop.services.customers.edits import CustomerChanges, edit_customer

from ..errors import MiniCRMError
from ..services.importing.values import parse_bool
from ..services.segments.bulk_actions import (
    BulkPreview,
    BulkResult,
    preview_tag,
    preview_unsubscribe,
    tag_segment,
    unsubscribe_segment,
)
from ..services.segments.saved import SavedSegment, SegmentNotFound, find_segment
from .context import CliContext
from .parsing import iso_datetime

EXIT_OK = 0
EXIT_NOT_CONFIRMED = 2


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    customer = commands.add_parser(
        "customer", help="edit a customer",
        description="Work with one customer, found by email (case-insensitively).")
    actions = customer.add_subparsers(dest="action", metavar="{edit}", required=True)
    edit = actions.add_parser(
        "edit", help="change a customer's name, phone, city, tags or subscription",
        description="Change the given fields of the customer with this email; the others "
        "are kept. Values are checked as an import checks them: text is trimmed, control "
        "characters are refused, and an empty value clears the field. Tags are trimmed, "
        "merged case-insensitively and replace the customer's tags (--tags '' removes them). "
        "Prints the fields that changed.")
    edit.add_argument("email", metavar="EMAIL", help="the customer's email")
    edit.add_argument("--name", help="full name ('' clears it)")
    edit.add_argument("--phone", help="phone number ('' clears it)")
    edit.add_argument("--city", help="city ('' clears it)")
    edit.add_argument("--tags", metavar="A,B", help="the customer's tags, comma-separated")
    edit.add_argument("--subscribed", metavar="yes|no",
                      help="marketing consent: yes/no, true/false or 1/0")
    edit.set_defaults(handler=_edit)


def register_segment_actions(
        actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tag = actions.add_parser(
        "tag", help="tag everyone in a saved segment",
        description="Give the tag T to every customer of the saved segment NAME who lacks "
        "it. Without --yes, prints how many customers would be tagged and asks (or, when "
        "not run from a terminal, exits with status 2 having changed nothing).")
    tag.add_argument("name", metavar="NAME", help="the saved segment's name")
    tag.add_argument("--tag", required=True, metavar="T", help="the tag to give")
    _confirm_arguments(tag)
    tag.set_defaults(handler=_tag)
    unsubscribe = actions.add_parser(
        "unsubscribe", help="unsubscribe everyone in a saved segment",
        description="Withdraw the marketing consent of every subscribed customer of the "
        "saved segment NAME. Without --yes, prints how many customers would be "
        "unsubscribed and asks (or, when not run from a terminal, exits with status 2 "
        "having changed nothing).")
    unsubscribe.add_argument("name", metavar="NAME", help="the saved segment's name")
    _confirm_arguments(unsubscribe)
    unsubscribe.set_defaults(handler=_unsubscribe)


def _confirm_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="go ahead without asking")
    parser.add_argument("--as-of", type=iso_datetime, default=None, metavar="ISO",
                        help="the clock for the segment's relative dates (default: now, UTC)")


def _edit(ctx: CliContext, args: argparse.Namespace) -> int:
    subscribed = None
    if args.subscribed is not None:
        if not args.subscribed.strip():
            raise _UsageError("--subscribed: expected yes or no")
        try:
            subscribed = parse_bool(args.subscribed)
        except ValueError as exc:
            raise _UsageError(f"--subscribed: {exc}") from None
    tags = None if args.tags is None else [t for t in args.tags.split(",") if t.strip()]
    changes = CustomerChanges(name=args.name, phone=args.phone, city=args.city, tags=tags,
                              subscribed=subscribed)
    if changes == CustomerChanges():
        raise _UsageError("nothing to change: give --name, --phone, --city, --tags or "
                          "--subscribed")
    result = edit_customer(ctx.engine(), args.email, changes, actor=ctx.actor())
    who = result.customer.email
    if result.changed:
        print(f"{who}: changed {', '.join(result.changed)}")
    else:
        print(f"{who}: nothing changed")
    return EXIT_OK


class _UsageError(MiniCRMError):
    exit_code = 2


def _segment(ctx: CliContext, name: str) -> SavedSegment:
    found = find_segment(ctx.engine(), name)
    if found is None:
        raise SegmentNotFound(f"no saved segment named {name!r}")
    return found


def _confirmed(args: argparse.Namespace, preview: BulkPreview, question: str) -> bool:
    """--yes, or a person at a terminal saying yes. The count is printed either way."""
    print(preview.affected)
    if args.yes or preview.affected == 0:
        return True
    if not sys.stdin.isatty():
        print(f"minicrm: error: {question.rstrip('?')} — not done: add --yes to confirm",
              file=sys.stderr)
        return False
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _report(result: BulkResult, verb: str) -> None:
    extra = f"; {result.skipped} skipped (too many tags)" if result.skipped else ""
    stop = " (cancelled)" if result.cancelled else ""
    print(f"{verb} {result.changed} customers{extra}{stop}", file=sys.stderr)


def _tag(ctx: CliContext, args: argparse.Namespace) -> int:
    engine = ctx.engine()
    segment = _segment(ctx, args.name)
    preview = preview_tag(engine, segment.rule, args.tag, as_of=args.as_of)
    question = (f"tag {preview.affected} of the {preview.audience} customers in segment "
                f"{segment.name!r} with {args.tag.strip()!r}?")
    if not _confirmed(args, preview, question):
        return EXIT_NOT_CONFIRMED
    result = tag_segment(engine, segment.rule, args.tag, actor=ctx.actor(),
                         segment=segment.name, as_of=args.as_of)
    _report(result, "tagged")
    return EXIT_OK


def _unsubscribe(ctx: CliContext, args: argparse.Namespace) -> int:
    engine = ctx.engine()
    segment = _segment(ctx, args.name)
    preview = preview_unsubscribe(engine, segment.rule, as_of=args.as_of)
    question = (f"unsubscribe {preview.affected} of the {preview.audience} customers in "
                f"segment {segment.name!r}?")
    if not _confirmed(args, preview, question):
        return EXIT_NOT_CONFIRMED
    result = unsubscribe_segment(engine, segment.rule, actor=ctx.actor(),
                                 segment=segment.name, as_of=args.as_of)
    _report(result, "unsubscribed")
    return EXIT_OK
