"""`minicrm segment count|emails|validate RULE.json`, `minicrm segment parse "TEXT"`, the
saved segments (`minicrm segment list`, `minicrm segment count --name NAME`), and the actions
on a saved segment, `tag` and `unsubscribe` (customer_commands.py)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..errors import MiniCRMError
from ..models.rules import RuleError, RuleGroup, dump_rule
from ..models.rules import load_rule as rule_from_text
from ..services.segments import count_audience, iter_audience_emails
from .context import CliContext
from .customer_commands import register_segment_actions
from .parsing import iso_datetime

EXIT_OK = 0


class UsageError(MiniCRMError):
    """A saved segment that does not exist, or neither RULE.json nor --name given."""

    exit_code = 2


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    segment = commands.add_parser(
        "segment",
        help="count or list the audience of a rule tree or a saved segment",
        description="Work with segment rule trees: JSON in the react-querybuilder format, "
        "described in docs/segment-rules.md of the source and in the README. A rule that "
        "breaks the format exits with status 2 and the reason on standard error.",
    )
    actions = segment.add_subparsers(
        dest="action", metavar="{list,count,emails,validate,parse,tag,unsubscribe}", required=True
    )
    listing = actions.add_parser(
        "list",
        help="list the saved segments",
        description="List the saved segments by name: name, then description (tab-separated),"
        " or a JSON array with --json (id, name, description, rule).",
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_list)
    count = actions.add_parser(
        "count",
        help="print the number of matching customers",
        description="Print the number of customers matching the rule tree in RULE.json "
        "(- reads standard input), or matching the saved segment --name NAME.",
    )
    _rule_arguments(count, as_of=True, saved=True)
    count.set_defaults(handler=_count)
    emails = actions.add_parser(
        "emails",
        help="print the matching customers' emails",
        description="Print the emails of the customers matching RULE.json, lower-cased, "
        "sorted, one a line (- reads standard input).",
    )
    _rule_arguments(emails, as_of=True)
    emails.set_defaults(handler=_emails)
    validate = actions.add_parser(
        "validate",
        help="check a rule tree against the contract",
        description="Check RULE.json against the segment rules contract without querying; "
        "prints 'valid' or exits with status 2 and the problems.",
    )
    _rule_arguments(validate, as_of=False)
    validate.set_defaults(handler=_validate)
    parse = actions.add_parser(
        "parse",
        help="turn a sentence into a rule tree",
        description='Turn a sentence such as "haven\'t shopped in 6 months and spent over '
        '₹5,000" into a rule tree, printed as JSON: by the configured AI model, or by the '
        "built-in offline parser (--offline, no API key, or the model unreachable). Exits "
        "with status 2 and the reason when the sentence cannot be understood. Only the "
        "sentence, the field list and the city and tag names are sent to a model.",
    )
    parse.add_argument("text", metavar="TEXT", help="the sentence describing the customers")
    parse.add_argument("--as-of", type=iso_datetime, default=None, metavar="ISO",
                       help="the date that 'this year' and 'last month' refer to "
                       "(default: now, UTC)")
    parse.add_argument("--offline", action="store_true",
                       help="use the built-in parser, never the model")
    parse.set_defaults(handler=_parse)
    register_segment_actions(actions)


def _rule_arguments(parser: argparse.ArgumentParser, *, as_of: bool,
                    saved: bool = False) -> None:
    if saved:
        parser.add_argument("rule", metavar="RULE.json", nargs="?",
                            help="the rule tree file, or - for stdin")
        parser.add_argument("--name", metavar="NAME",
                            help="a saved segment's name instead of RULE.json "
                            "(case-insensitive)")
    else:
        parser.add_argument("rule", metavar="RULE.json",
                            help="the rule tree file, or - for stdin")
    if as_of:
        parser.add_argument(
            "--as-of",
            type=iso_datetime,
            default=None,
            metavar="ISO",
            help="the clock for relative dates such as 'within the last 6 months' "
            "(default: now, UTC)",
        )


def load_rule(source: str) -> RuleGroup:
    """Read and validate a rule tree from a file path or '-' (standard input)."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RuleError([f"cannot read {source}: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise RuleError([f"{source} is not UTF-8 text"]) from None
    return rule_from_text(text, source=source)


def _count(ctx: CliContext, args: argparse.Namespace) -> int:
    if (args.rule is None) == (args.name is None):
        raise UsageError("give either RULE.json or --name NAME")
    tree = saved_rule(ctx, args.name) if args.name is not None else load_rule(args.rule)
    print(count_audience(ctx.engine(), tree, as_of=args.as_of))
    return EXIT_OK


def saved_rule(ctx: CliContext, name: str) -> RuleGroup:
    """The rule of the saved segment called `name` (case-insensitively)."""
    from ..services.segments.saved import list_segments

    wanted = name.strip().casefold()
    segments = list_segments(ctx.engine())
    for segment in segments:
        if segment.name.casefold() == wanted:
            return segment.rule
    names = ", ".join(repr(s.name) for s in segments) or "none yet"
    raise UsageError(f"no saved segment is called {name!r} (saved: {names})")


def _list(ctx: CliContext, args: argparse.Namespace) -> int:
    from ..services.segments.saved import list_segments

    segments = list_segments(ctx.engine())
    if args.json:
        print(json.dumps([{"id": s.id, "name": s.name, "description": s.description,
                           "rule": s.rule.to_json()} for s in segments],
                         indent=2, ensure_ascii=False))
    else:
        for s in segments:
            print(f"{s.name}\t{s.description}" if s.description else s.name)
    return EXIT_OK


def _emails(ctx: CliContext, args: argparse.Namespace) -> int:
    tree = load_rule(args.rule)
    out = sys.stdout
    try:
        for email in iter_audience_emails(ctx.engine(), tree, as_of=args.as_of):
            out.write(email + "\n")
        out.flush()
    except BrokenPipeError:  # `... | head`: the reader has all it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
    return EXIT_OK


def _validate(ctx: CliContext, args: argparse.Namespace) -> int:
    load_rule(args.rule)
    print("valid")
    return EXIT_OK


def _parse(ctx: CliContext, args: argparse.Namespace) -> int:
    from ..services.ai.assistant import load_vocabulary, sentence_to_rule
    from .ai_config import cli_ai_config

    answer = sentence_to_rule(cli_ai_config(offline=args.offline), args.text,
                              load_vocabulary(ctx.engine()), args.as_of)
    if answer.notice:
        print(f"minicrm: {answer.notice}", file=sys.stderr)
    print(dump_rule(answer.rule, indent=2))
    return EXIT_OK
