"""Monitoring end to end: a real run scraped by a real Prometheus server, dashboards and alerts checked.

One hour of IBM's real ticks (2013-10-09 14:00-15:00 UTC) goes through the live flow on the
embedded stack, with a burst of bad ticks in the middle. The flow's metrics endpoint is
scraped every second by Debian's ``prometheus`` binary (config and data in tmp_path, bound
to 127.0.0.1), which evaluates a copy of deploy/prometheus/alerts.yml whose ``for:`` clauses
are 0s. Then:

- every Prometheus query of every panel of the three Grafana dashboards returns data;
- the reject-rate alert fires on the injected burst;
- every ClickHouse panel query runs on the run's tables;
- the monitor events are on the model-events topic and in ``monitor_events``;
- ``tickwise report`` renders its page from the run's ClickHouse.

The scorer is a deterministic stand-in (p_up from the quote imbalance) so this test checks
the monitoring, not a trained model; the PSI reference is computed from the same hour of
the previous day through the live feature stage (the backfill).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest
import requests
import yaml
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.testing import run_main

from dataflows.backfill import run_backfill
from dataflows.components import build_components
from dataflows.produce import produce_messages
from dataflows.report import render_report
from dataflows.retrain import retrain_on_events
from dataflows.signals import build_flow
from dataflows.tickfiles import encode_ticks, read_tick_frame
from models.ensemble import EnsembleOutput
from operators.monitoring.psi import profile_from_columns
from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter
from sinks.metrics import MetricsRegistry, start_metrics_server
from tests.integration.flowkit import BAD_MESSAGES, create_topics, read_topic, topic_settings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = REPO / "deploy" / "grafana" / "dashboards"
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
HOUR_START = int(pd.Timestamp("2013-10-09 14:00", tz="UTC").value)
HOUR_END = int(pd.Timestamp("2013-10-09 15:00", tz="UTC").value)
DAY_NS = 86_400 * 1_000_000_000
BAD_BURST = 1_500
SECOND_NS = 1_000_000_000


class ImbalanceEnsemble:
    """Stand-in scorer: p_up rises with the quote imbalance; one horizon of 60 s."""

    version = "test-imbalance-1"
    feature_names: tuple[str, ...] = ("quote_imbalance",)
    horizon_ns = 60 * SECOND_NS

    def predict(self, features: np.ndarray, symbols: object = None, ts_ns: object = None) -> EnsembleOutput:
        imbalance = np.nan_to_num(np.asarray(features, dtype=np.float64)[:, 0])
        p_up = 0.5 + 0.4 * np.tanh(2.0 * imbalance)
        edge = 2.0 * p_up - 1.0
        n = len(p_up)
        return EnsembleOutput(
            p_up=p_up, direction=np.sign(edge).astype(np.int8), confidence=np.abs(edge),
            volatility=np.full(n, 0.001), regime=np.full(n, "normal"), score=edge,
            specialists={"trend": p_up, "mean_reversion": p_up, "volatility": np.full(n, 1e-4)},
        )


class _PacedPartition(StatefulSourcePartition):
    def __init__(self, inner: StatefulSourcePartition, pause_s: float) -> None:
        self._inner = inner
        self._pause = timedelta(seconds=pause_s)
        self._next = datetime.now(timezone.utc)

    def next_batch(self) -> list:
        batch = self._inner.next_batch()
        self._next = datetime.now(timezone.utc) + self._pause
        return batch

    def next_awake(self) -> datetime | None:
        return self._next

    def snapshot(self) -> object:
        return self._inner.snapshot()

    def close(self) -> None:
        self._inner.close()


class PacedSource(FixedPartitionedSource):
    """The real Kafka source, one batch per ``pause_s``: the run spans many scrapes."""

    def __init__(self, inner: FixedPartitionedSource, pause_s: float) -> None:
        self._inner = inner
        self._pause_s = pause_s

    def list_parts(self) -> list[str]:
        return self._inner.list_parts()

    def build_part(self, step_id: str, for_part: str, resume_state: object) -> _PacedPartition:
        return _PacedPartition(self._inner.build_part(step_id, for_part, resume_state), self._pause_s)


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian package `prometheus`, installed by .ci/run)"
        if os.environ.get("CI") or os.environ.get("TICKWISE_REQUIRE_PROMTOOL"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_prometheus(work: Path, target_port: int) -> tuple[subprocess.Popen, str]:
    rules = yaml.safe_load(ALERTS.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["for"] = "0s"
    (work / "alerts.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    (work / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["alerts.yml"],
        "scrape_configs": [{"job_name": "tickwise", "static_configs": [
            {"targets": [f"127.0.0.1:{target_port}"], "labels": {"process": "0"}}]}],
    }))
    port = _free_port()
    process = subprocess.Popen(
        [_binary("prometheus"), f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=(work / "prometheus.log").open("w"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return process, url
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"prometheus did not start: {(work / 'prometheus.log').read_text()[-2000:]}")


def _wait_for_scrape(url: str, expr: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
        if body.get("status") == "success" and body["data"]["result"]:
            return
        time.sleep(0.2)
    raise RuntimeError(f"prometheus did not scrape {expr} within {timeout_s} s")


def _messages_with_burst(market: Path) -> list[tuple[bytes | None, bytes]]:
    frame = read_tick_frame([market / "trades.csv.gz", market / "quotes.csv.gz"], ["IBM"], HOUR_START, HOUR_END)
    messages = list(encode_ticks(frame))
    at = int(len(messages) * 0.6)
    burst = [BAD_MESSAGES[i % len(BAD_MESSAGES)] for i in range(BAD_BURST)]
    return messages[:at] + burst + messages[at:]


@pytest.fixture(scope="module")
def monitored_run(stack, market_data: Path, tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("monitoring")
    settings = topic_settings(stack, f"mon{os.getpid()}", f"chdb://{work / 'chdb'}", source={"batch_size": 1000},
                              monitoring={"outcome_min_samples": 50, "psi_window": 300}, risk={"symbols": "IBM"})
    create_topics(settings)
    produced = produce_messages(settings.kafka.bootstrap, settings.kafka.ticks_topic, _messages_with_burst(market_data)).messages

    registry = MetricsRegistry()
    ensemble = ImbalanceEnsemble()
    # PSI reference: the same hour of the previous day, through the live feature stage.
    reference = run_backfill(build_components(settings, ensemble=ensemble, registry=MetricsRegistry()),
                             [market_data / "trades.csv.gz", market_data / "quotes.csv.gz"],
                             HOUR_START - DAY_NS, HOUR_END - DAY_NS, ["IBM"])
    names = reference.rows[0].names
    values = np.array([row.values for row in reference.rows], dtype=np.float64)
    profile = profile_from_columns({name: values[:, i] for i, name in enumerate(names)})

    server, _ = start_metrics_server(0, "127.0.0.1", registry)
    prometheus, url = _start_prometheus(work, server.server_port)
    try:
        components = build_components(settings, ensemble=ensemble, registry=registry, profile=profile)
        # rate() counts increases from a series' first scraped sample on: the run starts only
        # once Prometheus has scraped the zeros (every reject reason is declared at 0), or a
        # fast run puts the whole burst before the first sample.
        _wait_for_scrape(url, 'tickwise_rejects_total{reason="invalid_json"}')
        started = time.monotonic()
        run_main(build_flow(components, PacedSource(components.kafka_source(), 0.5), components.live_outputs()))
        elapsed = time.monotonic() - started
        time.sleep(3)  # two more scrapes of the final counters
        client = ClickHouseWriter(ClickHouseSettings(url=settings.clickhouse.url.get_secret_value())).connect()
        yield {"settings": settings, "produced": produced, "registry": registry, "prometheus": url,
               "client": client, "elapsed": elapsed, "work": work, "profile": profile}
    finally:
        prometheus.terminate()
        prometheus.wait(10)
        server.shutdown()


def _substitute(expr: str) -> str:
    for name, value in (("$__rate_interval", "1m"), ("$__range", "5m"), ("$__interval", "1s")):
        expr = expr.replace(name, value)
    for variable in ("process", "stage", "model_version", "symbol"):
        expr = expr.replace(f"${variable}", ".*")
    return expr


def _panels(board: dict) -> list[dict]:
    panels = []
    for panel in board["panels"]:
        panels.extend(panel.get("panels", []) if panel.get("type") == "row" else [panel])
    return panels


def _query(url: str, expr: str) -> list[dict]:
    body = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", f"{expr}: {body}"
    return body["data"]["result"]


def test_the_run_is_bounded_and_counts_every_message(monitored_run: dict) -> None:
    registry = monitored_run["registry"]
    valid = registry.value("tickwise_ticks_total", outcome="valid")
    rejected = registry.value("tickwise_ticks_total", outcome="rejected")
    assert valid + rejected == monitored_run["produced"]
    assert rejected >= BAD_BURST
    assert monitored_run["elapsed"] < 120


def test_every_prometheus_panel_query_of_every_dashboard_returns_data(monitored_run: dict) -> None:
    url = monitored_run["prometheus"]
    empty = []
    checked = 0
    for path in sorted(DASHBOARDS.glob("*.json")):
        for panel in _panels(json.loads(path.read_text())):
            for target in panel.get("targets", []):
                if target["datasource"]["type"] != "prometheus":
                    continue
                checked += 1
                if not _query(url, _substitute(target["expr"])):
                    empty.append(f"{path.name}: {panel['title']}: {target['expr']}")
    assert checked >= 40
    assert empty == [], "panels without data:\n" + "\n".join(empty)


def test_the_reject_rate_alert_fires_on_the_burst_of_bad_ticks(monitored_run: dict) -> None:
    url = monitored_run["prometheus"]
    deadline = time.monotonic() + 30
    firing: set[str] = set()
    while time.monotonic() < deadline:
        alerts = requests.get(f"{url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
        firing = {alert["labels"]["alertname"] for alert in alerts if alert["state"] == "firing"}
        if "TickwiseRejectRateHigh" in firing:
            break
        time.sleep(1)
    ratio = _query(url, 'sum(rate(tickwise_rejects_total[5m])) / sum(rate(tickwise_ticks_total[5m]))')
    assert "TickwiseRejectRateHigh" in firing, f"firing: {sorted(firing)}, reject ratio: {ratio}"
    assert not {"TickwiseSinkErrors", "TickwiseWorkerDown"} & firing, sorted(firing)


def test_every_clickhouse_panel_query_runs_on_the_run_tables(monitored_run: dict) -> None:
    client = monitored_run["client"]
    for path in sorted(DASHBOARDS.glob("*.json")):
        for panel in _panels(json.loads(path.read_text())):
            for target in panel.get("targets", []):
                if target["datasource"]["type"] == "prometheus":
                    continue
                sql = target["rawSql"].replace("$__timeFilter(ts)", "1 = 1")
                rows = client.query(sql).result_rows
                assert rows, f"{path.name}: {panel['title']} returned no row"


def test_monitor_events_reach_kafka_and_clickhouse_with_their_fields(monitored_run: dict) -> None:
    settings = monitored_run["settings"]
    client = monitored_run["client"]
    messages = [orjson.loads(message.value()) for message in read_topic(settings.kafka.bootstrap,
                                                                       settings.kafka.model_events_topic)]
    stored = client.query("SELECT event_id, kind, detector, feature, statistic FROM monitor_events FINAL").result_rows
    assert messages and {m["event_id"] for m in messages} == {row[0] for row in stored}
    for message in messages:
        assert message["symbol"] == "IBM" and message["feature"] and message["detector"]
        assert math.isfinite(message["statistic"]) and message["ts_ns"] >= HOUR_START
    kinds = {m["kind"] for m in messages}
    # The stand-in's confidence averages far below 0.7, so the model_review rule fires, once.
    assert sum(1 for m in messages if m["kind"] == "model_review") == 1, kinds


def test_outcomes_and_paper_pnl_are_stored(monitored_run: dict) -> None:
    client = monitored_run["client"]
    outcomes, late = client.query(
        "SELECT count(), countIf(resolved_ts_ns < ts_ns + horizon_ns) FROM outcomes FINAL").result_rows[0]
    predictions = int(client.command("SELECT count() FROM predictions FINAL"))
    assert late == 0
    assert 0.8 * predictions < outcomes <= predictions  # the last minute has no outcome yet
    fills = int(client.command("SELECT count() FROM pnl FINAL WHERE reason = 'fill'"))
    signals = int(client.command("SELECT count() FROM signals FINAL"))
    assert signals > 0 and 0 < fills <= signals


def test_the_report_renders_one_page_with_every_plot(monitored_run: dict) -> None:
    out = monitored_run["work"] / "report"
    page = render_report(monitored_run["client"], out)
    html = page.read_text()
    for title in ("P&amp;L", "Drawdown", "Calibration", "Accuracy", "Drift", "Latency"):
        assert title in html
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) >= 6 and all(png.stat().st_size > 1000 for png in pngs)


def test_retrain_on_event_trains_one_candidate_from_the_runs_retrain_event(monitored_run: dict) -> None:
    settings = monitored_run["settings"]
    calls: list[dict] = []

    def recorder(**kwargs: object) -> dict:
        calls.append(kwargs)
        return {}

    class Quiet:
        def print(self, *args: object, **kwargs: object) -> None:
            pass

    trained = retrain_on_events(settings.kafka.bootstrap, settings.kafka.model_events_topic, [Path("ticks.csv.gz")],
                                monitored_run["work"] / "candidates", monitored_run["work"] / "train", None, None,
                                ["IBM"], Quiet(), trainer=recorder, timeout_s=60)
    assert len(trained) == 1 and len(calls) == 1
    assert calls[0]["out_dir"] == trained[0] and calls[0]["symbols"] == ["IBM"]
