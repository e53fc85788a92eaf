"""The benchmark harness runs end to end on a tiny real slice and reports every figure.

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
UNIVERSE = 40


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, market_data: Path) -> dict:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.flow_throughput", "--limit", str(LIMIT), "--processes", "1",
         "--market", str(market_data), "--naive-sample", "50", "--latency-seconds", "3",
         "--universe", str(UNIVERSE), "--universe-slice", str(LIMIT), "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for marker in ("kafka_consume", "inference_only", "naive per-tick", "tickwise 1 proc", "tick-to-signal latency",
                   "state at scale"):
        assert marker in result.stdout, marker
    return orjson.loads(out.read_bytes())


def test_bench_report_names_the_machine_and_its_load(report: dict) -> None:
    for key in ("timestamp", "machine", "args", "ticks", "produce", "kafka_consume", "feature_stage", "inference_only",
                "naive", "tickwise", "latency", "universe", "table", "ratios", "producer_msgs_per_s_median"):
        assert key in report, key
    machine = report["machine"]
    for key in ("cores", "cpu_model", "memory_total_mb", "python", "versions", "loadavg_at_start", "loadavg_at_end"):
        assert machine[key] not in (None, ""), key
    for package in ("bytewax", "confluent-kafka", "xgboost", "chdb", "clickhouse-connect", "hdrhistogram"):
        assert package in machine["versions"]


def test_bench_every_reference_run_counts_every_tick(report: dict) -> None:
    assert report["ticks"] == LIMIT
    assert all(p["messages"] == LIMIT and "msgs_per_s" in p for p in report["produce"])
    assert report["kafka_consume"]["ticks_in"] == LIMIT
    for key in ("elapsed_s", "ticks_per_s", "decode_us_per_tick", "peak_rss_mb"):
        assert key in report["kafka_consume"], key
    assert report["feature_stage"]["ticks"] == LIMIT
    inference = report["inference_only"]
    assert inference["ticks"] == LIMIT and inference["rows"] == report["feature_stage"]["rows"]
    assert inference["batch"] == 1024
    for key in ("elapsed_s", "us_per_row", "us_per_tick", "peak_rss_mb", "model_version"):
        assert key in inference, key
    naive = report["naive"]
    assert naive["sample_ticks"] > 0
    for key in ("us_per_tick", "ticks_per_s", "peak_rss_mb", "window_ticks"):
        assert key in naive, key


def test_bench_tickwise_run_reports_summary_memory_and_startup(report: dict) -> None:
    (run,) = report["tickwise"]
    assert run["processes"] == 1
    summary = run["summary"]
    for key in ("ticks_in", "ticks_valid", "ticks_rejected", "elapsed_s", "ticks_per_s", "signals_accepted",
                "predictions", "features"):
        assert key in summary, key
    assert summary["ticks_in"] == run["produced"] == LIMIT
    assert run["startup_run"]["summary"]["ticks_in"] == 0
    for key in ("startup_s", "corrected_elapsed_s", "corrected_ticks_per_s", "peak_rss_mb_workers",
                "peak_rss_mb_workers_sum", "peak_rss_mb_cli", "cpu_s_workers", "cli_wall_s", "rss_mb_workers_over_time"):
        assert key in run, key
    assert len(run["peak_rss_mb_workers"]) == 1 and run["peak_rss_mb_workers"][0] > 0


def test_bench_latency_and_state_scale_report_every_field(report: dict) -> None:
    latency = report["latency"]
    for key in ("endpoint", "rate_target_per_s", "rate_achieved_per_s", "ticks_produced", "signals_received",
                "latency", "latency_first_half", "latency_second_half", "dead_letter_latency", "kafka_round_trip",
                "peak_rss_mb_workers", "loadavg_before", "loadavg_after"):
        assert key in latency, key
    assert "count" in latency["latency"] and "count" in latency["kafka_round_trip"]["latency"]
    universe = report["universe"]
    assert universe["universe"] == UNIVERSE
    for key in ("state_bytes_per_symbol", "state_kb_per_symbol_mean", "snapshot_s", "snapshot_share_of_interval",
                "restore_s", "rss_mb_before_universe", "rss_mb_after_universe", "rss_kb_per_symbol", "peak_rss_mb",
                "targets"):
        assert key in universe, key


def test_bench_table_has_every_row_and_ratio(report: dict) -> None:
    names = [row["name"] for row in report["table"]]
    assert names[0].startswith("kafka_consume")
    for prefix in ("inference_only", "naive per-tick", "tickwise 1 proc (start-up-corrected)"):
        assert any(name.startswith(prefix) for name in names), prefix
    for row in report["table"]:
        for key in ("ticks", "seconds", "ticks_per_s", "us_per_tick", "peak_rss_mb", "vs_kafka_consume",
                    "vs_inference_only", "vs_naive", "vs_1_process"):
            assert key in row, key
    for key in ("tickwise_over_kafka_consume", "tickwise_over_inference_only", "tickwise_over_naive",
                "two_process_over_one_process"):
        assert key in report["ratios"], key
