"""The reading half of `minicrm campaign`: list, show, log, drafts, and `minicrm vendor
ledger` (campaign_commands.py registers them and holds the commands that act)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from minicrm_desktop.services.core.csv_export import csv_writer

from ..services.campaigns import history, store
from ..services.campaigns.vendor import VendorLedger, default_ledger_path
from .context import CliContext

EXIT_OK = 0


def show_drafts(ctx: CliContext, args: argparse.Namespace) -> int:
    rows = [row.__dict__ for row in history.list_drafts(ctx.engine())]
    if args.json:
        print_json(rows)
    else:
        for row in rows:
            print(f"{row['id']:>6}  {row['step']:<8} {row['name']}  saved {row['updated_at']}")
    return EXIT_OK


def show_list(ctx: CliContext, args: argparse.Namespace) -> int:
    rows = [row.to_dict() for row in history.list_campaigns(ctx.engine())]
    if args.json:
        print_json(rows)
    else:
        for row in rows:
            print(
                f"{row['id']:>6}  {row['status']:<10} {row['name']}  audience {row['audience']}"
                f", sent {row['sent']}, failed {row['failed']}, skipped {row['skipped']}"
            )
    return EXIT_OK


def show_campaign(ctx: CliContext, args: argparse.Namespace) -> int:
    details = history.campaign_details(ctx.engine(), args.id)
    if args.json:
        print_json(details)
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


def show_log(ctx: CliContext, args: argparse.Namespace) -> int:
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


def show_ledger(ctx: CliContext, args: argparse.Namespace) -> int:
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


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))
