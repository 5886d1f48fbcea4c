"""benchmarks/segments.py at a small size: every rule timed beside DuckDB, counts agreeing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("duckdb")

ROOT = Path(__file__).resolve().parent.parent


def test_segment_benchmark_reports_ratios_to_duckdb(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "segments.py"), "--customers", "3000",
         "--runs", "3", "--json", "--cache", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr  # it fails when DuckDB counts differently
    report = json.loads(result.stdout)
    assert report["engine"] == "sqlite"
    assert report["customers"] == 3000
    assert report["server_settings"]["page_size"] > 0
    assert report["duckdb_settings"]["threads"] == "1"
    assert len(report["load_average"]["start"]) == 3
    assert len(report["load_average"]["end"]) == 3
    assert len(report["rules"]) == 10
    for row in report["rules"].values():
        assert row["median_ms"] > 0
        assert row["duckdb_ms"] > 0
        assert row["ratio_to_duckdb"] == pytest.approx(
            row["median_ms"] / row["duckdb_ms"], rel=0.05, abs=0.02)
    assert report["rules"]["tag_vip"]["count"] > 0
    # The baseline is DuckDB's faster form: a rewritten rule's planned statement was timed too.
    for row in report["rules"].values():
        rewritten = row["count_form"] != "where"
        assert row["duckdb_form"] in (("where", "planned") if rewritten else ("where",))
        assert (row["duckdb_other_form_ms"] is not None) == rewritten
    assert report["rules"]["tag_vip"]["count_form"] == "tag links"
    assert (tmp_path / "segments-sqlite-3000-20261124.duckdb").exists()
