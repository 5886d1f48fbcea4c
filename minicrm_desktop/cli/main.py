"""The `minicrm` command line: the desktop app's second door, over the same services.

Each group of commands lives in its own module with a `register(subparsers)` function;
add a module to COMMAND_MODULES to add commands.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from minicrm_desktop.services.core.redact import scrub, scrub_log_handlers, scrubbing_excepthook

from .. import __version__
from ..errors import MiniCRMError
from ..services.access.actor import Actor

# Imported only when a command is given: opening the window must not pay for the modules
# the commands use (the OpenAI client and Alembic alone take half a second).
COMMAND_MODULES = ["data_commands", "segment_commands", "campaign_commands",
                   "access_commands", "auth_commands", "selftest_commands", "ai_commands",
                   "db_password_commands", "customer_commands"]
# The module registering each command: a command line names one command, and only its
# module need be imported (all of them cost ~0.4 s CPU, paid by every `minicrm import`).
# tests/test_cli_lazy.py checks this against what the modules register.
COMMAND_OWNERS = {
    "import": "data_commands", "init-db": "data_commands", "seed": "data_commands",
    "segment": "segment_commands", "campaign": "campaign_commands",
    "vendor": "campaign_commands", "audit": "access_commands", "users": "access_commands",
    "dev-idp": "auth_commands", "login": "auth_commands", "logout": "auth_commands",
    "whoami": "auth_commands", "selftest": "selftest_commands", "ai": "ai_commands",
    "db-password": "db_password_commands", "customer": "customer_commands",
}
EXIT_USAGE = 2
HELP_FLAGS = ("-h", "--help", "--version")
#: Arguments that name files (as text), so may hold any bytes the file system allows.
PATH_ARGUMENTS = frozenset({"rule", "db", "file", "ledger"})
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on standard error, as the CLI contract asks."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _global_parser(**kwargs: Any) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="minicrm",
        description="MiniCRM Desktop. Without a command, opens the desktop app.",
        **kwargs,
    )
    parser.add_argument("--version", action="version", version=f"MiniCRM {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL: sqlite:///path/crm.db or mysql+pymysql://user@host:3306/crm "
        "(leave the password out: MINICRM_MYSQL_PASSWORD or `minicrm db-password` supply it; "
        "default: MINICRM_DATABASE_URL, else a SQLite file in your data folder)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    return parser


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`: with only the module of the command it names, if it names
    one (else, and without `argv`, all of them: `--help` and errors list every command)."""
    parser = _global_parser()
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    owner = _owner(argv) if argv is not None else None
    for name in [owner] if owner else COMMAND_MODULES:
        importlib.import_module(f"{__package__}.{name}").register(commands)
    return parser


def _owner(argv: Sequence[str]) -> str | None:
    _args, rest = _global_parser(add_help=False).parse_known_args(argv)
    return COMMAND_OWNERS.get(rest[0]) if rest else None


def _window_args(argv: Sequence[str]) -> argparse.Namespace | None:
    """The global options when `argv` names no command (the app opens), else None."""
    if any(arg in HELP_FLAGS for arg in argv):
        return None
    args, rest = _global_parser(add_help=False).parse_known_args(argv)
    return None if rest else args


def main(argv: Sequence[str] | None = None, *, actor: Actor | None = None) -> int:
    """Run one command. `actor` (Python callers only, such as tests and embedding
    scripts) names who acts instead of the sign-in the command line would look up."""
    argv = list(sys.argv[1:] if argv is None else argv)
    window = _window_args(argv)
    if window is None:
        from ..services.core.heap import resume_gc

        resume_gc()  # a command: the collector paused for the window's start runs again
    else:
        logging.basicConfig(level=logging.DEBUG if window.debug else logging.WARNING)
        from ..app import run_gui  # Qt is imported only when the window is wanted

        return run_gui(db=window.db, debug=window.debug)
    # SQLAlchemy only for a command: the window is painted before it loads.
    from sqlalchemy.exc import SQLAlchemyError

    from .context import CliContext

    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING)
    # A password (from the URL, the environment or the secret store) never reaches the
    # terminal: not in a log line, an error line, nor a --debug traceback.
    scrub_log_handlers()
    sys.excepthook = scrubbing_excepthook
    if args.command is None:  # only reachable through odd spellings such as `--db=`
        from ..app import run_gui

        return run_gui(db=args.db, debug=args.debug)
    undecodable = _undecodable_text(args)
    if undecodable is not None:
        print(f"minicrm: error: the {undecodable} argument is not valid UTF-8 text",
              file=sys.stderr)
        return EXIT_USAGE
    ctx = CliContext(db=args.db, debug=args.debug, actor_override=actor)
    try:
        return int(args.handler(ctx, args))
    except MiniCRMError as exc:
        return _fail(args, str(exc), exc.exit_code)
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        return _fail(args, f"database error: {str(cause).splitlines()[0]}", 1)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", 130)
    except BrokenPipeError:
        # The reader went away (`minicrm campaign log 1 | head`): not an error.
        sys.stderr.close()
        return 0
    finally:
        ctx.close()


def _undecodable_text(args: argparse.Namespace) -> str | None:
    """The first text argument holding bytes that are not UTF-8 (Python keeps them as lone
    surrogates, which no database can store), if any. File names may hold such bytes."""
    for dest, value in vars(args).items():
        if dest in PATH_ARGUMENTS:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and _SURROGATE.search(item):
                return dest.replace("_", "-")
    return None


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    if args.debug:
        raise
    print(f"minicrm: error: {scrub(message)}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
