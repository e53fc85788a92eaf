"""A promoted model is picked up by a running flow, without a restart, on the real embedded stack.

Tansu (Kafka API), Redis, chDB and an MLflow registry (SQLite store): the live flow runs as
one ``python -m bytewax.run`` process following ``models:/tickwise-ensemble@champion``.
Real IBM ticks go in, version 2 is promoted while the process runs, more ticks go in; the
process is then stopped and every prediction in ClickHouse must carry version 1's ensemble
before the promotion and version 2's after it, in one process that never restarted.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dataflows.backfill import record_feature_set
from dataflows.components import flow_feature_set
from dataflows.config import environment_variables
from dataflows.stack import free_port
from models.mlflow_registry import RegistryConfig, log_training_run, promote
from models.train import train_ensemble
from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter
from tests.integration.flowkit import create_topics, live_settings, metrics_text, produce_real_day, stop_flow
from tests.unit.models.conftest import TEST_CONFIG, synthetic_frame

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
OPEN = pd.Timestamp("2013-10-09 13:30", tz="UTC")
FIRST = (int(OPEN.value), int((OPEN + pd.Timedelta(minutes=5)).value))
SECOND = (FIRST[1], int((OPEN + pd.Timedelta(minutes=10)).value))


def _scored(text: str) -> float:
    match = re.search(r'^tickwise_stage_items_total\{stage="score"\} ([0-9.e+]+)$', text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def _metrics_summary(process: subprocess.Popen) -> str:
    text = metrics_text(getattr(process, "metrics_port", 0))
    return " ".join(line for line in text.splitlines() if line.startswith(("tickwise_stage_items", "tickwise_model_info",
                                                                          "tickwise_ticks_total")))


def _wait(condition, what: str, process: subprocess.Popen, timeout_s: float = 40.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the flow exited with code {process.returncode} while waiting for {what}")
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; metrics: {_metrics_summary(process)}")


def test_promoting_a_version_switches_the_running_flow_at_a_batch_boundary(
        stack, market_data: Path, topic_prefix: str, tmp_path: Path) -> None:
    started = time.monotonic()
    port = free_port()
    settings = live_settings(
        stack, topic_prefix, tmp_path, port,
        model={"spec": "models:/tickwise-ensemble@champion", "mlflow_dir": tmp_path / "mlflow", "poll_s": 0.5},
    )
    create_topics(settings)

    # Two small ensembles on the flow's feature set, registered as versions 1 and 2.
    registry = RegistryConfig.embedded(settings.model.mlflow_dir)
    frame = synthetic_frame(seconds=3600)
    versions = {}
    for seed in (1, 2):
        model_dir = tmp_path / f"ensemble{seed}"
        train_ensemble(frame, model_dir, dataclasses.replace(TEST_CONFIG, n_estimators=3, seed=seed))
        manifest = record_feature_set(model_dir, flow_feature_set(settings))
        info = log_training_run(registry, model_dir)
        versions[info.version] = manifest["version"]
    old, new = versions["1"], versions["2"]
    assert old != new
    promote(registry, "1", "champion")

    log = open(tmp_path / "flow.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "bytewax.run", "dataflows.signals:flow()"], cwd=REPO_ROOT,
        env={**os.environ, **environment_variables(settings)}, stdout=log, stderr=subprocess.STDOUT,
        # A test runner started in the background ignores SIGINT, and children inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    print(f"registry ready after {time.monotonic() - started:.1f} s")
    process.metrics_port = port  # type: ignore[attr-defined]
    try:
        _wait(lambda: f'tickwise_model_info{{version="{old}"}} 1.0' in metrics_text(port), "the flow to start", process)
        produce_real_day(settings, market_data, ["IBM"], *FIRST)
        _wait(lambda: _scored(metrics_text(port)) >= 150, "predictions from version 1", process)
        time.sleep(1.0)  # let the first slice drain through scoring
        scored_before = _scored(metrics_text(port))

        promote(registry, "2", "champion")
        time.sleep(1.0)  # > model_poll_s: the next batch polls the registry and swaps before scoring
        produce_real_day(settings, market_data, ["IBM"], *SECOND)
        _wait(lambda: _scored(metrics_text(port)) >= scored_before + 150, "predictions after the promotion", process)
        assert f'tickwise_model_info{{version="{new}"}} 1.0' in metrics_text(port)
        time.sleep(1.0)
        assert process.poll() is None, "the flow must still be the same running process"
    finally:
        stop_flow(process)
        log.close()

    print(f"flow stopped after {time.monotonic() - started:.1f} s")
    client = ClickHouseWriter(ClickHouseSettings(url=settings.clickhouse.url.get_secret_value())).connect()
    rows = client.query("SELECT ts_ns, model_version FROM predictions FINAL ORDER BY partition, offset").result_rows
    before = [version for ts, version in rows if ts < SECOND[0]]
    after = [version for ts, version in rows if ts >= SECOND[0]]
    assert len(before) >= 150 and len(after) >= 150, (len(before), len(after))
    assert set(before) == {old}, "ticks produced before the promotion were scored by version 1"
    assert set(after) == {new}, "ticks produced after the swap was announced were scored by version 2"
