"""The simulated vendor: outcomes, reproducibility, throttling, and its idempotent ledger."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from minicrm_desktop.services.campaigns.vendor import (
    FAILURES,
    THROTTLED,
    Message,
    Vendor,
    VendorConfig,
    VendorLedger,
)


def message(i: int, attempt: int = 1, channel: str = "sms") -> Message:
    return Message(f"k{i}", 1, channel, f"+91 {i}", "hello", attempt)


def test_outcomes_follow_the_success_rate_and_reasons(tmp_path: Path) -> None:
    vendor = Vendor(VendorConfig(success_rate=0.9, seed=4), tmp_path / "l.db")
    try:
        outcomes = [vendor.send(message(i)) for i in range(3000)]
    finally:
        vendor.close()
    sent = sum(o.sent for o in outcomes)
    assert 0.87 < sent / 3000 < 0.93
    reasons = Counter(o.reason for o in outcomes if not o.sent)
    assert set(reasons) == {r for r, _ in FAILURES["sms"]}
    transient = {r for r, t in FAILURES["sms"] if t}
    assert all(o.transient == (o.reason in transient) for o in outcomes if not o.sent)


def test_same_seed_same_outcomes(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        vendor = Vendor(VendorConfig(seed=9), tmp_path / f"{name}.db")
        runs.append([vendor.send(message(i)) for i in range(300)])
        vendor.close()
    assert runs[0] == runs[1]


def test_repeated_key_gets_the_first_outcome_and_no_second_message(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    vendor = Vendor(VendorConfig(success_rate=0.5, seed=2), path)
    first = [vendor.send(message(i)) for i in range(200)]
    vendor.close()
    # A new process (new vendor object) resends every key, some with another attempt number.
    again = Vendor(VendorConfig(success_rate=0.5, seed=2), path)
    second = [again.send(message(i, attempt=2)) for i in range(200)]
    again.close()
    recorded = {e.key: e for e in VendorLedger.read_entries(path)}
    for i, (a, b) in enumerate(zip(first, second, strict=True)):
        if a.transient:
            continue  # not accepted the first time: the retry is a first delivery
        assert b.duplicate
        assert (b.sent, b.reason) == (a.sent, a.reason)
        assert recorded[f"k{i}"].outcome == ("sent" if a.sent else "failed")
    assert len(recorded) == len({e.address for e in recorded.values()})


def test_transient_failures_are_not_recorded(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    vendor = Vendor(VendorConfig(success_rate=0.0, seed=1), path)
    outcomes = {f"k{i}": vendor.send(message(i, channel="email")) for i in range(100)}
    vendor.close()
    recorded = {e.key for e in VendorLedger.read_entries(path)}
    assert recorded == {k for k, o in outcomes.items() if not o.transient}
    assert recorded


def test_rate_limit_throttles(tmp_path: Path) -> None:
    vendor = Vendor(VendorConfig(success_rate=1.0, rate_limit=5), tmp_path / "l.db")
    try:
        outcomes = [vendor.send(message(i)) for i in range(40)]
    finally:
        vendor.close()
    throttled = [o for o in outcomes if o.reason == THROTTLED]
    assert throttled
    assert all(o.transient for o in throttled)
    assert sum(o.sent for o in outcomes) >= 5
