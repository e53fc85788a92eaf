"""The throughput harness runs end to end on a tiny real slice and reports every figure.

Timings are never asserted (bench/ prints figures; tests only check that they exist).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
LIMIT = 5_000


def test_bench_harness_reports_every_field_and_counts_every_tick(tmp_path: Path, market_data: Path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.flow_throughput", "--limit", str(LIMIT), "--processes", "1",
         "--market", str(market_data), "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "kafka_consume" in result.stdout and "tickwise 1 proc" in result.stdout
    report = orjson.loads(out.read_bytes())

    for key in ("timestamp", "machine", "args", "ticks", "produce", "kafka_consume", "tickwise", "table",
                "producer_msgs_per_s_median"):
        assert key in report, key
    machine = report["machine"]
    for key in ("cores", "cpu_model", "memory_total_mb", "python", "versions"):
        assert machine[key] not in (None, ""), key
    for package in ("bytewax", "confluent-kafka", "xgboost", "chdb", "clickhouse-connect"):
        assert package in machine["versions"]

    assert report["ticks"] == LIMIT
    assert all(p["messages"] == LIMIT and "msgs_per_s" in p for p in report["produce"])
    base = report["kafka_consume"]
    assert base["ticks_in"] == LIMIT
    for key in ("elapsed_s", "ticks_per_s", "decode_us_per_tick"):
        assert key in base

    (run,) = report["tickwise"]
    assert run["processes"] == 1
    summary = run["summary"]
    for key in ("ticks_in", "ticks_valid", "ticks_rejected", "elapsed_s", "ticks_per_s", "signals_accepted",
                "predictions", "features"):
        assert key in summary, key
    assert summary["ticks_in"] == run["produced"] == LIMIT
    assert run["startup_run"]["summary"]["ticks_in"] == 0
    for key in ("startup_s", "corrected_elapsed_s", "corrected_ticks_per_s", "peak_rss_mb_workers",
                "peak_rss_mb_workers_sum", "peak_rss_mb_cli", "cpu_s_workers", "cli_wall_s"):
        assert key in run, key
    assert len(run["peak_rss_mb_workers"]) == 1 and run["peak_rss_mb_workers"][0] > 0

    names = [row["name"] for row in report["table"]]
    assert names[0].startswith("kafka_consume") and any("start-up-corrected" in name for name in names)
    for row in report["table"]:
        for key in ("ticks", "seconds", "ticks_per_s", "us_per_tick", "peak_rss_mb", "vs_kafka_consume",
                    "vs_1_process"):
            assert key in row, key
