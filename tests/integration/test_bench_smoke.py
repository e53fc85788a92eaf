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
        [sys.executable, "-m", "bench.flow_throughput", "--limit", str(LIMIT), "--processes", "1,2",
         "--market", str(market_data), "--naive-sample", "50", "--latency-seconds", "3",
         "--universe", str(UNIVERSE), "--universe-slice", str(LIMIT), "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for marker in ("kafka_consume", "inference_only", "naive per-tick", "signals flow 1 proc", "signals flow 2 proc",
                   "both flows, 1+1 proc", "tick-to-signal latency", "history flow stopped", "closed port",
                   "two hops, measured directly", "state at scale", "issue 13 targets", "load average",
                   "scaling on 8+ cores: not measured"):
        assert marker in result.stdout, marker
    return orjson.loads(out.read_bytes())


def test_bench_report_names_the_machine_and_its_load(report: dict) -> None:
    for key in ("timestamp", "machine", "args", "ticks", "produce", "kafka_consume", "feature_stage", "inference_only",
                "naive", "tickwise", "cpu_two_over_one", "latency", "universe", "table", "ratios", "targets",
                "not_measured", "producer_msgs_per_s_median"):
        assert key in report, key
    machine = report["machine"]
    for key in ("cores", "cpu_model", "memory_total_mb", "python", "versions", "git", "loadavg_at_start",
                "loadavg_at_end"):
        assert machine[key] not in (None, ""), key
    assert len(machine["loadavg_at_start"]) == len(machine["loadavg_at_end"]) == 3
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


def test_bench_flow_runs_report_every_tick_memory_cpu_and_startup(report: dict) -> None:
    runs = {(run["role"], run["processes"]): run for run in report["tickwise"]}
    assert set(runs) == {("signals", 1), ("signals", 2), ("both", 1)}
    for run in runs.values():
        assert run["ticks"] == run["produced"] == LIMIT
        for key in ("startup_s", "cli_wall_s", "ticks_per_s", "corrected_elapsed_s", "corrected_ticks_per_s",
                    "corrected_ticks_per_s_per_process", "peak_rss_mb_workers", "peak_rss_mb_workers_sum",
                    "peak_rss_mb_cli", "cpu_s_workers", "cpu_s_workers_sum", "cpu_us_per_tick_workers",
                    "rss_mb_workers_over_time", "published", "loadavg_after"):
            assert key in run, key
        assert run["startup_run"]["cli_wall_s"] > 0
        # every run publishes the same rows from the same ticks, on as many processes as it likes
        assert run["published"] == runs[("signals", 1)]["published"]
        assert run["published"]["features"] > 0 and run["published"]["decisions"] is not None
    assert len(runs[("signals", 1)]["peak_rss_mb_workers"]) == 1
    assert len(runs[("signals", 2)]["peak_rss_mb_workers"]) == 2
    assert len(runs[("both", 1)]["peak_rss_mb_workers"]) == 2  # the signals worker, then the history worker
    summary = runs[("both", 1)]["summary"]
    for key in ("ticks_in", "ticks_valid", "ticks_rejected", "elapsed_s", "signals_accepted", "predictions", "features"):
        assert key in summary, key
    assert summary["ticks_in"] == LIMIT  # the history flow consumed every tick
    cpu = report["cpu_two_over_one"]
    for key in ("cpu_s_workers_1", "cpu_s_workers_2", "ratio", "target", "met"):
        assert key in cpu, key


def test_bench_latency_and_state_scale_report_every_field(report: dict) -> None:
    latency = report["latency"]
    for key in ("of_rate_per_s", "load_fraction", "rate_target_per_s", "ticks", "both_flows", "history_stopped",
                "clickhouse_unavailable", "kafka_one_hop", "kafka_two_hop"):
        assert key in latency, key
    for condition, role in (("both_flows", "both"), ("history_stopped", "signals"), ("clickhouse_unavailable", "both")):
        run = latency[condition]
        assert run["role"] == role
        for key in ("endpoint", "rate_target_per_s", "rate_achieved_per_s", "ticks_produced", "signals_received",
                    "latency", "latency_first_half", "latency_second_half", "dead_letter_latency",
                    "peak_rss_mb_workers", "loadavg_before", "loadavg_after", "history_flow_seen"):
            assert key in run, key
        assert "count" in run["latency"]
    assert latency["both_flows"]["history_flow_seen"] and not latency["history_stopped"]["history_flow_seen"]
    # the window opens after the history flow settled (or, ClickHouse unavailable, failed and exited)
    assert latency["both_flows"]["history_at_start"] in ("idle", "timeout")
    assert latency["history_stopped"]["history_at_start"] == "not started"
    assert latency["clickhouse_unavailable"]["history_at_start"] == "exited"
    assert latency["clickhouse_unavailable"]["env_overrides"]["CLICKHOUSE_URL"].startswith("http://127.0.0.1:")
    assert "Connection refused" in latency["clickhouse_unavailable"]["history_log_tail"]
    two_hop = latency["kafka_two_hop"]
    assert two_hop["received"] == two_hop["relayed"] == two_hop["ticks_produced"] > 0
    for key in ("latency", "latency_first_half", "latency_second_half"):
        assert two_hop[key]["count"] > 0, key
    assert latency["kafka_one_hop"]["latency"]["count"] > 0
    universe = report["universe"]
    assert universe["universe"] == UNIVERSE
    for key in ("state_bytes_per_symbol", "state_kb_per_symbol_mean", "snapshot_s", "snapshot_share_of_interval",
                "restore_s", "rss_mb_before_universe", "rss_mb_after_universe", "rss_kb_per_symbol", "peak_rss_mb",
                "targets"):
        assert key in universe, key


def test_bench_table_has_every_row_ratio_and_target(report: dict) -> None:
    names = [row["name"] for row in report["table"]]
    assert names[0].startswith("kafka_consume")
    for prefix in ("inference_only", "naive per-tick", "signals flow 1 proc (start-up-corrected)",
                   "signals flow 2 proc (start-up-corrected)", "both flows, 1+1 proc (start-up-corrected)"):
        assert any(name.startswith(prefix) for name in names), prefix
    for row in report["table"]:
        for key in ("ticks", "seconds", "ticks_per_s", "us_per_tick", "peak_rss_mb", "vs_kafka_consume",
                    "vs_inference_only", "vs_naive", "vs_1_process"):
            assert key in row, key
    for key in ("signals_over_kafka_consume", "signals_over_feature_stage", "signals_over_inference_only",
                "signals_over_naive", "two_process_over_one_process", "both_flows_over_signals_flow"):
        assert key in report["ratios"], key
    targets = {item["name"]: item for item in report["targets"]}
    for name in ("signals flow, 1 process, all its sinks", "both flows until both consumed everything",
                 "worker CPU per tick, 2 signals processes / 1", "scaling on 8+ cores (1, 2, 4, 8 processes)"):
        assert name in targets, name
        assert set(targets[name]) == {"name", "figure", "target", "met", "rule"}
    assert targets["scaling on 8+ cores (1, 2, 4, 8 processes)"]["met"] is None
    assert report["not_measured"]["scaling_8_cores"] == f"not measured ({report['machine']['cores']} cores)" or \
        report["machine"]["cores"] >= 8
