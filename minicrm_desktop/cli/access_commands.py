"""`minicrm users list|add|set-role|deactivate|activate|allow-domain|remove-domain|
db-account|reset-db-password` and `minicrm audit`: the admin's tools. Each is checked
against the acting user's role (and, on a shared database, by the server)."""

from __future__ import annotations

import argparse
import json
import sys

from ..services.access.actor import Role
from ..services.access.audit import AuditFilter, audit_page, write_audit_csv
from ..services.access.db_accounts import (
    DbCredentials,
    create_db_account,
    require_shared,
    reset_db_password,
)
from ..services.access.users import (
    UserError,
    add_first_admin,
    add_user,
    allow_domain,
    list_domains,
    list_users,
    remove_domain,
    set_active,
    set_role,
)
from .context import CliContext
from .parsing import iso_datetime

EXIT_OK = 0
ROLES = [r.value for r in Role]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = commands.add_parser(
        "users",
        help="who may sign in, and with which role (admins)",
        description="Manage the people and email domains that may sign in. Admins only.",
    )
    actions = users.add_subparsers(
        dest="action", required=True,
        metavar="{list,add,set-role,deactivate,activate,allow-domain,remove-domain,"
        "db-account,reset-db-password}",
    )
    listing = actions.add_parser("list", help="print users and allowed domains")
    listing.add_argument("--json", action="store_true", help="as JSON")
    listing.set_defaults(handler=_list)
    add = actions.add_parser("add", help="let EMAIL sign in with a role")
    add.add_argument("email", metavar="EMAIL")
    add.add_argument("--role", choices=ROLES, default=Role.VIEWER.value,
                     help="admin, marketer or viewer (default: viewer)")
    add.add_argument("--name", default="", help="the person's name (else taken at sign-in)")
    add.add_argument(
        "--operator", action="store_true",
        help="with --role admin, as the database's operator (whoever holds its credentials) "
        "without signing in: names the first admin of a database that has no active admin, "
        "e.g. one upgraded from a release without users, where the first sign-in does not "
        "make anybody admin")
    add.add_argument("--db-account", nargs="?", const="", default=None, metavar="NAME",
                     help="on a shared MySQL/MariaDB database, also create their own "
                     "database account (NAME, else one made from the email) and print its "
                     "one-time password")
    add.set_defaults(handler=_add)
    account = actions.add_parser(
        "db-account", help="create EMAIL's own database account (shared databases)",
        description="Create EMAIL's own account on the shared MySQL/MariaDB database, with "
        "the server role of their MiniCRM role, and print its one-time password once.")
    account.add_argument("email", metavar="EMAIL")
    account.add_argument("--name", default=None, metavar="NAME",
                         help="the account's name (default: made from the email)")
    account.set_defaults(handler=_db_account)
    reset = actions.add_parser(
        "reset-db-password", help="give EMAIL's database account a new one-time password")
    reset.add_argument("email", metavar="EMAIL")
    reset.set_defaults(handler=_reset_db_password)
    role = actions.add_parser("set-role", help="change a user's role")
    role.add_argument("email", metavar="EMAIL")
    role.add_argument("role", choices=ROLES, metavar="ROLE", help="admin, marketer or viewer")
    role.set_defaults(handler=_set_role)
    for name, active, text in (("deactivate", False, "stop EMAIL from signing in"),
                               ("activate", True, "let a deactivated EMAIL sign in again")):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("email", metavar="EMAIL")
        sub.set_defaults(handler=_set_active, active=active)
    allow = actions.add_parser(
        "allow-domain", help="let anyone at DOMAIN sign in",
        description="Let anyone with a verified address at DOMAIN sign in, with --role "
        "(viewer unless given). Allowing a domain again changes its role.")
    allow.add_argument("domain", metavar="DOMAIN")
    allow.add_argument("--role", choices=ROLES, default=Role.VIEWER.value)
    allow.set_defaults(handler=_allow_domain)
    remove = actions.add_parser("remove-domain", help="stop admitting new users from DOMAIN")
    remove.add_argument("domain", metavar="DOMAIN")
    remove.set_defaults(handler=_remove_domain)

    audit = commands.add_parser(
        "audit",
        help="print the audit log (admins)",
        description="Print the audit log, newest first: sign-ins and refusals, imports, "
        "segment and campaign changes, user and settings changes. Admins only.",
    )
    audit.add_argument("--user", metavar="EMAIL", help="only this user's entries")
    audit.add_argument("--action", metavar="ACTION",
                       help="only this action (campaign.launch), or a family (campaign.)")
    audit.add_argument("--since", type=iso_datetime, metavar="ISO", help="from this time on")
    audit.add_argument("--until", type=iso_datetime, metavar="ISO", help="before this time")
    audit.add_argument("--text", metavar="TEXT", help="entries mentioning TEXT")
    audit.add_argument("--limit", type=int, default=100, metavar="N",
                       help="at most N entries (default 100; --csv writes them all)")
    audit.add_argument("--csv", action="store_true", help="every matching entry as CSV")
    audit.set_defaults(handler=_audit)


def _list(ctx: CliContext, args: argparse.Namespace) -> int:
    engine, actor = ctx.engine(), ctx.actor()
    people = list_users(engine, actor=actor)
    domains = list_domains(engine, actor=actor)
    if args.json:
        print(json.dumps({
            "users": [{"email": u.email, "name": u.name, "role": u.role.value,
                       "active": u.active, "db_account": u.db_account,
                       "last_sign_in_at": u.last_sign_in_at.isoformat()
                       if u.last_sign_in_at else None} for u in people],
            "allowed_domains": [{"domain": d.domain, "role": d.role.value} for d in domains],
        }, indent=2, ensure_ascii=False))
        return EXIT_OK
    for u in people:
        seen = u.last_sign_in_at.isoformat(timespec="seconds") if u.last_sign_in_at else "never"
        state = "" if u.active else "  (deactivated)"
        account = f"\tdatabase account {u.db_account}" if u.db_account else ""
        print(f"{u.email}\t{u.role.value}\tlast sign-in {seen}{state}{account}")
    for d in domains:
        print(f"@{d.domain}\t{d.role.value}\t(allowed domain)")
    return EXIT_OK


def _add(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.operator:
        if args.role != Role.ADMIN.value:
            raise UserError("--operator only names a first admin: add --role admin")
        user = add_first_admin(ctx.engine(signed_in=False), args.email, name=args.name)
        print(f"{user.email} may now sign in as admin")
        return EXIT_OK
    if args.db_account is not None:
        require_shared(ctx.engine())  # before adding anyone: all or nothing
    user = add_user(ctx.engine(), args.email, role=Role(args.role), name=args.name,
                    actor=ctx.actor())
    print(f"added {user.email} as {user.role.value}")
    if args.db_account is not None:
        _print_credentials(create_db_account(ctx.engine(), user.email, actor=ctx.actor(),
                                             account=args.db_account or None))
    return EXIT_OK


def _db_account(ctx: CliContext, args: argparse.Namespace) -> int:
    _print_credentials(create_db_account(ctx.engine(), args.email, actor=ctx.actor(),
                                         account=args.name))
    return EXIT_OK


def _reset_db_password(ctx: CliContext, args: argparse.Namespace) -> int:
    _print_credentials(reset_db_password(ctx.engine(), args.email, actor=ctx.actor()))
    return EXIT_OK


def _print_credentials(credentials: DbCredentials) -> None:
    # Shown once, here only: pass it on privately. They change it with `minicrm db-password`.
    print(f"database account for {credentials.email}: {credentials.account}")
    print(f"one-time password: {credentials.password}")
    print("Pass both on privately; they run `minicrm db-password` to replace the password "
          "with one only their keyring knows.")


def _set_role(ctx: CliContext, args: argparse.Namespace) -> int:
    user = set_role(ctx.engine(), args.email, Role(args.role), actor=ctx.actor())
    print(f"{user.email} is now {user.role.value}")
    return EXIT_OK


def _set_active(ctx: CliContext, args: argparse.Namespace) -> int:
    user = set_active(ctx.engine(), args.email, args.active, actor=ctx.actor())
    print(f"{user.email} is {'active' if user.active else 'deactivated'}")
    return EXIT_OK


def _allow_domain(ctx: CliContext, args: argparse.Namespace) -> int:
    row = allow_domain(ctx.engine(), args.domain, role=Role(args.role), actor=ctx.actor())
    print(f"anyone at {row.domain} may sign in as {row.role.value}")
    return EXIT_OK


def _remove_domain(ctx: CliContext, args: argparse.Namespace) -> int:
    remove_domain(ctx.engine(), args.domain, actor=ctx.actor())
    print(f"{args.domain.strip().lower()} is no longer allowed")
    return EXIT_OK


def _audit(ctx: CliContext, args: argparse.Namespace) -> int:
    where = AuditFilter(user=args.user, action=args.action, since=args.since,
                        until=args.until, text=args.text)
    engine, actor = ctx.engine(), ctx.actor()
    if args.csv:
        write_audit_csv(engine, where, sys.stdout, actor=actor)
        return EXIT_OK
    for row in audit_page(engine, where, actor=actor, limit=max(1, args.limit)):
        print(f"{row.at.isoformat(timespec='seconds')}\t{row.user_email}\t{row.action}\t"
              f"{row.detail}")
    return EXIT_OK
