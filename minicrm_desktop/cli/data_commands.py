"""`minicrm init-db`, `minicrm import customers|orders FILE`, `minicrm seed`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from ..services.database import describe_url
from ..services.importing import ImportReport, import_customers, import_orders
from ..services.seed import seed_demo_data
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
    init.set_defaults(handler=_init_db)

    imp = commands.add_parser(
        "import",
        help="import customers or orders from a CSV file",
        description="Import a UTF-8 CSV file with a header row. Rows update the record with "
        "the same key, so importing a file twice changes nothing the second time. Bad rows are "
        "reported by line and skipped; the good rows are imported. Exit status: 0 all rows "
        "taken, 1 some rejected, 2 the file is unusable (nothing written).",
    )
    kinds = imp.add_subparsers(dest="kind", metavar="{customers,orders}", required=True)
    cust = kinds.add_parser(
        "customers",
        help="import customers (email required)",
        description="Columns: email (required), name, phone, city, signup_date, visits, "
        "last_visit, subscribed, tags (labels separated by |).",
    )
    cust.add_argument("file", type=Path, help="the CSV file")
    cust.set_defaults(handler=_import_customers)
    orders = kinds.add_parser(
        "orders",
        help="import orders (order_id, customer_email, amount, order_date)",
        description="Columns, all required: order_id, customer_email (an existing customer), "
        "amount (a plain number with at most 2 decimals), order_date (ISO 8601).",
    )
    orders.add_argument("file", type=Path, help="the CSV file")
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


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _init_db(ctx: CliContext, _args: argparse.Namespace) -> int:
    # No sign-in: on a shared database the server decides, and only its owner account
    # may create or upgrade the schema (anyone else is told to ask an admin).
    ctx.engine(signed_in=False)
    for notice in ctx.notices:
        print(notice)
    print(f"database ready: {describe_url(ctx.url)}")
    return EXIT_OK


def _print_report(report: ImportReport) -> int:
    print(report.summary())
    for row in report.rejected:
        print(f"  rejected {row.describe()}")
    return EXIT_SOME_REJECTED if report.rejected else EXIT_OK


def _import_customers(ctx: CliContext, args: argparse.Namespace) -> int:
    return _print_report(import_customers(ctx.engine(), args.file, actor=ctx.actor()))


def _import_orders(ctx: CliContext, args: argparse.Namespace) -> int:
    return _print_report(import_orders(ctx.engine(), args.file, actor=ctx.actor()))


def _seed(ctx: CliContext, args: argparse.Namespace) -> int:
    anchor: datetime | None = args.as_of
    report = seed_demo_data(ctx.engine(), args.customers, seed=args.seed, anchor=anchor,
                            actor=ctx.actor())
    print(report.summary())
    sys.stdout.flush()
    return EXIT_OK
