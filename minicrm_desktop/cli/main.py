"""The `minicrm` command line: the desktop app's second door, over the same services.

Each group of commands lives in its own module with a `register(subparsers)` function;
add a module to COMMAND_MODULES to add commands.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from sqlalchemy.exc import SQLAlchemyError

from .. import __version__
from ..errors import MiniCRMError
from . import campaign_commands, data_commands, segment_commands
from .context import CliContext

COMMAND_MODULES = [data_commands, segment_commands, campaign_commands]
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on standard error, as the CLI contract asks."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="minicrm",
        description="MiniCRM Desktop. Without a command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"MiniCRM {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL: sqlite:///path/crm.db or mysql+pymysql://user:pass@host:3306/crm "
        "(default: MINICRM_DATABASE_URL, else a SQLite file in your data folder)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING)
    if args.command is None:
        from ..app import run_gui  # Qt is imported only when the window is wanted

        return run_gui(db=args.db, debug=args.debug)
    ctx = CliContext(db=args.db, debug=args.debug)
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


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    if args.debug:
        raise
    print(f"minicrm: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
