"""`minicrm init-db`, `minicrm import customers|orders FILE`, `minicrm seed`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from minicrm_desktop.services.core.database import describe_url
from minicrm_desktop.services.customers.seed import seed_demo_data

from ..errors import ConfigError, ImportFileError
from ..services.importing import ImportReport, import_customers, import_orders
from ..services.importing.detect import detect_format
from ..services.importing.options import AMOUNT_READINGS, DATE_ORDERS, ImportOptions
from ..services.importing.rejected import export_rejected_rows
from .context import CliContext
from .parsing import iso_datetime

EXIT_OK = 0
EXIT_SOME_REJECTED = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = commands.add_parser(
        "init-db",
        help="create or upgrade the database schema",
        description="Create the schema in an empty database, or upgrade an older one in "
        "place (data is never dropped).",
    )
    init.add_argument(
        "--trust-dev-idp", metavar="URL",
        help="development runs only: let this database, while nobody has an account in it, "
        "accept sign-ins from the development identity provider at URL (`minicrm dev-idp`, "
        "e.g. http://127.0.0.1:8765). Every database trusts Google; a packaged release never "
        "trusts anything else.")
    init.set_defaults(handler=_init_db)

    imp = commands.add_parser(
        "import",
        help="import customers or orders from a CSV file",
        description="Import a UTF-8 CSV file with a header row. Rows update the record with "
        "the same key, so importing a file twice changes nothing the second time. Bad rows are "
        "reported by line and skipped; the good rows are imported. Exit status: 0 all rows "
        "taken, 1 some rejected, 2 the file is unusable or of the other kind (nothing written). "
        "Amounts and dates are read as the contract says unless --amounts/--dates choose "
        "otherwise; --detect tells which formats a file uses.",
    )
    kinds = imp.add_subparsers(dest="kind", metavar="{customers,orders}", required=True)
    cust = kinds.add_parser(
        "customers",
        help="import customers (email required)",
        description="Columns: email (required), name, phone, city, signup_date, visits, "
        "last_visit, subscribed, tags (labels separated by |). Dates are ISO 8601 "
        "(2026-05-01, 2026-05-01T10:00:00+05:30) between 1900-01-01 and 2999-12-31 in UTC; "
        "visits at most 2,147,483,647; digits ASCII only; text may hold no control "
        "characters but tab.",
    )
    cust.add_argument("file", type=Path, help="the CSV file")
    _now_argument(cust)
    _format_arguments(cust)
    cust.set_defaults(handler=_import_customers)
    orders = kinds.add_parser(
        "orders",
        help="import orders (order_id, customer_email, amount, order_date)",
        description="Columns, all required: order_id, customer_email (an existing customer), "
        "amount (a plain number with at most 2 decimals, at most 10,000,000,000.00; see "
        "--amounts), order_date (ISO 8601, between 1900-01-01 and 2999-12-31 in UTC; see "
        "--dates).",
    )
    orders.add_argument("file", type=Path, help="the CSV file")
    _now_argument(orders)
    _format_arguments(orders)
    orders.set_defaults(handler=_import_orders)

    seed = commands.add_parser(
        "seed",
        help="fill the database with realistic demo customers and orders",
        description="Add N demo customers with orders over the last three years. The same "
        "--seed (and --as-of) gives the same data.",
    )
    seed.add_argument(
        "--customers", type=_count, required=True, metavar="N", help="how many customers to add"
    )
    seed.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    seed.add_argument(
        "--as-of",
        type=iso_datetime,
        default=None,
        metavar="ISO",
        help="the 'today' of the demo data (default: now)",
    )
    seed.set_defaults(handler=_seed)


def _now_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--now",
        type=iso_datetime,
        default=None,
        metavar="ISO",
        help="the clock of the import: the signup date of a new customer whose signup_date "
        "is empty (default: the current time), so an import can be reproduced",
    )


def _format_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--amounts", choices=AMOUNT_READINGS, default="strict",
        help="strict (default): plain amounts like 5000.50 only; lenient: also thousands "
        "separators, Indian grouping (1,00,000) and a leading ₹, Rs, Rs. or INR")
    parser.add_argument(
        "--dates", choices=DATE_ORDERS, default="ISO", type=str.upper,
        help="ISO (default): ISO 8601 dates only; DMY: also day-first dates like 31/12/2024; "
        "MDY: also month-first dates like 12/31/2024 (/, - or . between the parts)")
    parser.add_argument(
        "--detect", action="store_true",
        help="read the whole file and print what its amount and date columns hold and the "
        "options to import it with; import nothing (exit 0, or 2 for a file the import "
        "refuses)")
    parser.add_argument(
        "--rejected", type=Path, metavar="PATH",
        help="write the rejected rows to PATH as CSV: the file's own columns with the cells "
        "as they were, then line, column and reason; once fixed, PATH can be imported again")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _init_db(ctx: CliContext, args: argparse.Namespace) -> int:
    # No sign-in: on a shared database the server decides, and only its owner account
    # may create or upgrade the schema (anyone else is told to ask an admin). Trusting the
    # dev IdP needs a database nobody has an account in yet: nobody to sign in as either.
    engine = ctx.engine(signed_in=False, verify=True)
    for notice in ctx.notices:
        print(notice)
    if args.trust_dev_idp is not None:
        from ..services.auth import trust_dev_idp

        issuer = trust_dev_idp(engine, args.trust_dev_idp)
        print(f"this database trusts the development identity provider at {issuer}")
    print(f"database ready: {describe_url(ctx.url)}")
    return EXIT_OK


def _print_report(report: ImportReport, args: argparse.Namespace) -> int:
    print(report.summary())
    for row in report.rejected:
        print(f"  rejected {row.describe()}")
    formats = {"amount", "order_date", "signup_date", "last_visit"}
    if _options(args).strict and any(r.column in formats for r in report.rejected):
        print(f"hint: `minicrm import {report.kind} {args.file} --detect` tells which amount "
              "and date formats the file uses and the options that read them")
    if args.rejected is not None:
        try:
            written = export_rejected_rows(args.file, report.rejected, args.rejected)
        except OSError as exc:
            raise ConfigError(f"cannot write {args.rejected}: {exc.strerror or exc}") from None
        print(f"{written} rejected row(s) written to {args.rejected}")
    return EXIT_SOME_REJECTED if report.rejected else EXIT_OK


def _detect(kind: str, args: argparse.Namespace) -> int:
    report = detect_format(args.file, kind, whole_file=True)
    if report.problem:
        raise ImportFileError(report.problem)
    for line in report.lines():
        print(line)
    return EXIT_OK


def _options(args: argparse.Namespace) -> ImportOptions:
    return ImportOptions(amounts=args.amounts, dates=args.dates)


def _import_customers(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.detect:
        return _detect("customers", args)
    return _print_report(
        import_customers(ctx.engine(), args.file, actor=ctx.actor(), now=args.now,
                         options=_options(args)),
        args,
    )


def _import_orders(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.detect:
        return _detect("orders", args)
    return _print_report(
        import_orders(ctx.engine(), args.file, actor=ctx.actor(), now=args.now,
                      options=_options(args)),
        args,
    )


def _seed(ctx: CliContext, args: argparse.Namespace) -> int:
    anchor: datetime | None = args.as_of
    report = seed_demo_data(ctx.engine(), args.customers, seed=args.seed, anchor=anchor,
                            actor=ctx.actor())
    print(report.summary())
    sys.stdout.flush()
    return EXIT_OK
