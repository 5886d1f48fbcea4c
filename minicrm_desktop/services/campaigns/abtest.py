"""A/B with a winner: the test share's results choose the variant the rest of the audience
gets, in one transaction under the delivery lease.

At launch the whole audience is frozen: the test share (a stable hash) queued with its
variants, the rest `held`. When the wait is over and every test message has its outcome,
the lease holder records the winner and why, and requeues the held rows with the winning
variant, all at once: a run killed at any moment decides once and sends the rest once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, case, func, select, update

from ...models.base import utcnow
from ...models.campaign import (
    DeliveryStatus,
    campaigns_table,
    deliveries_table,
    variants_table,
)
from ..access.actor import SYSTEM
from ..access.audit import Action, record
from .lease import HELD, QUEUED, SENDING, _hold_lease, db_now
from .variants import in_test_share

c = campaigns_table.c
d = deliveries_table.c


@dataclass(frozen=True)
class VariantResult:
    label: str
    sent: int
    failed: int
    opened: int

    @property
    def attempted(self) -> int:
        return self.sent + self.failed

    def rate(self, metric: str) -> float | None:
        if metric == "engagement":
            return self.opened / self.sent if self.sent else None
        return self.sent / self.attempted if self.attempted else None


_WORDS = {"delivered": "delivered", "engagement": "opened"}


def choose_winner(results: list[VariantResult], metric: str) -> tuple[str, str]:
    """The winning label and the reason in words, e.g. "B: 93.1% delivered vs A 88.0%".
    Ties go to more messages tried, then to the earlier label."""
    if metric == "engagement" and not any(r.opened for r in results):
        label, reason = choose_winner(results, "delivered")
        return label, f"{reason} (no engagement reported: chosen by delivery)"
    rated = [(r, r.rate(metric)) for r in results]
    scored = sorted(((r, rate) for r, rate in rated if rate is not None),
                    key=lambda pair: (-pair[1], -pair[0].attempted, pair[0].label))
    if not scored:
        first = min(r.label for r in results) if results else "A"
        return first, f"{first}: no test results to compare; {first} by default"
    (best, rate), rest = scored[0], scored[1:]
    word = _WORDS[metric]
    others = ", ".join(f"{r.label} {value:.1%}" for r, value in rest)
    unrated = [r.label for r, value in rated if value is None]
    reason = f"{best.label}: {rate:.1%} {word}" + (f" vs {others}" if others else "")
    if unrated:
        reason += f" ({', '.join(unrated)}: no results)"
    return best.label, reason


def seconds_until_decision(engine: Engine, campaign_id: int) -> float | None:
    """None when the campaign has no winner left to choose; else how long until the wait is
    over (0: due now)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(c.ab_test_share, c.ab_winner, c.ab_decide_at).where(c.id == campaign_id)
        ).one_or_none()
        if row is None or row.ab_test_share is None or row.ab_winner is not None:
            return None
        if row.ab_decide_at is None:
            return 0.0
        return max(0.0, (row.ab_decide_at - db_now(conn)).total_seconds())


def results(conn: Connection, campaign_id: int) -> list[VariantResult]:
    """The test share's figures per variant (held rows have no variant yet)."""
    v = variants_table.c
    tally = {label: [0, 0, 0] for label in conn.execute(
        select(v.label).where(v.campaign_id == campaign_id)).scalars()}
    rows = conn.execute(
        select(d.variant, d.status, func.count(),
               func.sum(case((d.opened.is_(True), 1), else_=0)))
        .where(d.campaign_id == campaign_id, d.variant != "",
               d.status.in_([DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value]))
        .group_by(d.variant, d.status)
    ).all()
    for variant, status, n, opened in rows:
        t = tally.setdefault(variant, [0, 0, 0])
        if status == DeliveryStatus.SENT.value:
            t[0] += int(n)
            t[2] += int(opened or 0)
        else:
            t[1] += int(n)
    return [VariantResult(label, *t) for label, t in sorted(tally.items())]


def results_of_test_share(engine: Engine, campaign_id: int) -> list[VariantResult]:
    """The test share's figures per variant, also after the winner was chosen: the winner's
    released rows carry its label too, so its test rows are told apart by the same stable
    hash that chose them at launch (the other variants' rows are all test rows)."""
    with engine.connect() as conn:
        row = conn.execute(select(c.ab_test_share, c.ab_winner)
                           .where(c.id == campaign_id)).one_or_none()
        tally = {r.label: r for r in results(conn, campaign_id)}
        if row is None or row.ab_test_share is None or row.ab_winner is None:
            return list(tally.values())
        sent = failed = opened = 0
        for customer_id, status, was_opened in conn.execute(
            select(d.customer_id, d.status, d.opened)
            .where(d.campaign_id == campaign_id, d.variant == row.ab_winner,
                   d.status.in_([DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value]))
        ):
            if not in_test_share(campaign_id, customer_id, row.ab_test_share):
                continue
            if status == DeliveryStatus.SENT.value:
                sent += 1
                opened += bool(was_opened)
            else:
                failed += 1
    tally[row.ab_winner] = VariantResult(row.ab_winner, sent, failed, opened)
    return [tally[label] for label in sorted(tally)]


@dataclass(frozen=True)
class Decision:
    winner: str
    reason: str
    released: int


def decide_winner(engine: Engine, campaign_id: int, owner: str) -> Decision | None:
    """Choose the winner and release the held rows with it, in one transaction under
    `owner`'s lease (LeaseLost if it is gone). None when it is not time yet (the wait, or
    test messages without an outcome) or the winner was already chosen."""
    now = utcnow()
    with engine.begin() as conn:
        _hold_lease(conn, campaign_id, owner)  # also locks the campaign's row
        row = conn.execute(
            select(c.ab_test_share, c.ab_metric, c.ab_winner, c.ab_decide_at)
            .where(c.id == campaign_id)
        ).one()
        if row.ab_test_share is None or row.ab_winner is not None:
            return None
        if row.ab_decide_at is not None and row.ab_decide_at > db_now(conn):
            return None
        unfinished = conn.execute(
            select(func.count()).where(d.campaign_id == campaign_id,
                                       d.status.in_([QUEUED, SENDING]))
        ).scalar_one()
        if unfinished:
            return None
        winner, reason = choose_winner(results(conn, campaign_id), row.ab_metric or "delivered")
        conn.execute(
            update(campaigns_table)
            .where(c.id == campaign_id)
            .values(ab_winner=winner, ab_reason=reason[:500], updated_at=now)
        )
        released = int(conn.execute(
            update(deliveries_table)
            .where(d.campaign_id == campaign_id, d.status == HELD)
            .values(status=QUEUED, variant=winner, updated_at=now)
        ).rowcount)
        record(conn, SYSTEM, Action.CAMPAIGN_AB_WINNER,
               {"campaign_id": campaign_id, "winner": winner, "reason": reason,
                "released": released})
    return Decision(winner, reason, released)
