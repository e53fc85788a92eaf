"""Unit specification of the metrics registry and its loopback-only HTTP endpoint."""

from __future__ import annotations

import urllib.request

from operators.messages import PnlRow
from sinks.metrics import LATENCY_BUCKETS_SECONDS, LIVE_GAUGES, PAPER_GAUGES, MetricsRegistry, start_metrics_server


def test_registries_are_independent() -> None:
    first, second = MetricsRegistry(), MetricsRegistry()
    first.count_ticks(valid=3)
    assert first.value("tickwise_ticks_total", outcome="valid") == 3
    assert second.value("tickwise_ticks_total", outcome="valid") is None


def test_counters_carry_their_labels() -> None:
    metrics = MetricsRegistry()
    metrics.count_ticks(valid=5, rejected=2)
    metrics.count_reject("invalid_json")
    metrics.count_decision(accepted=False, reason="max_position")
    metrics.count_sink_rows("clickhouse", "ticks", 7)
    metrics.count_sink_error("kafka")
    metrics.count_monitor_event("feature_drift", "adwin")
    assert metrics.value("tickwise_ticks_total", outcome="rejected") == 2
    assert metrics.value("tickwise_rejects_total", reason="invalid_json") == 1
    assert metrics.value("tickwise_signals_total", decision="denied", reason="max_position") == 1
    assert metrics.value("tickwise_sink_rows_total", sink="clickhouse", table="ticks") == 7
    assert metrics.value("tickwise_sink_errors_total", sink="kafka") == 1
    assert metrics.value("tickwise_drift_events_total", kind="feature_drift", detector="adwin") == 1


def test_show_latest_when_pnl_row_then_each_paper_gauge_shows_its_field_for_that_model_and_symbol() -> None:
    metrics = MetricsRegistry()
    row = PnlRow("row-1", "IBM", "v1", 5, position=100.0, average_price=150.0, mid=150.5, realized_pnl=2.0,
                 unrealized_pnl=50.0, fees=0.5, total_pnl=51.5, trades=3, closing_trades=2, wins=1, win_rate=0.5,
                 sharpe=1.25, drawdown=3.0, max_drawdown=4.0)
    metrics.show_latest(PAPER_GAUGES, row, "v1", "IBM")
    shown = {name: metrics.value(name, model_version="v1", symbol="IBM") for name in PAPER_GAUGES}
    assert shown == {"tickwise_paper_position_shares": 100.0, "tickwise_paper_realized_pnl_dollars": 2.0,
                     "tickwise_paper_unrealized_pnl_dollars": 50.0, "tickwise_paper_total_pnl_dollars": 51.5,
                     "tickwise_paper_win_rate_ratio": 0.5, "tickwise_paper_sharpe_ratio": 1.25,
                     "tickwise_paper_drawdown_dollars": 3.0}
    assert all(metrics.value(name, model_version="v1", symbol="IBM") is None for name in LIVE_GAUGES)


def test_observe_stage_records_latency_from_ten_microseconds_to_one_second() -> None:
    metrics = MetricsRegistry()
    metrics.observe_stage("scoring", 0.00002, items=1024)
    assert LATENCY_BUCKETS_SECONDS[0] == 0.00001
    assert LATENCY_BUCKETS_SECONDS[-1] == 1.0
    assert metrics.value("tickwise_stage_latency_seconds_bucket", stage="scoring", le="2.5e-05") == 1
    assert metrics.value("tickwise_stage_latency_seconds_bucket", stage="scoring", le="1e-05") == 0
    assert metrics.value("tickwise_stage_items_total", stage="scoring") == 1024


def test_model_info_shows_only_the_current_version() -> None:
    metrics = MetricsRegistry()
    metrics.set_model_version("v1")
    metrics.set_model_version("v2")
    assert metrics.value("tickwise_model_info", version="v2") == 1
    assert metrics.value("tickwise_model_info", version="v1") is None


def test_metrics_server_binds_loopback_by_default_and_serves_the_registry() -> None:
    metrics = MetricsRegistry()
    metrics.count_ticks(valid=1)
    server, thread = start_metrics_server(0, metrics=metrics)
    try:
        assert server.server_address[0] == "127.0.0.1"
        body = urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5).read()
        assert b'tickwise_ticks_total{outcome="valid"} 1.0' in body
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_declared_reject_reasons_exist_at_zero_before_any_reject() -> None:
    from prometheus_client import generate_latest

    registry = MetricsRegistry()
    registry.declare_rejects(["crossed_quote", "ts_late"])
    text = generate_latest(registry.registry).decode()
    assert 'tickwise_rejects_total{reason="crossed_quote"} 0.0' in text
    assert 'tickwise_rejects_total{reason="ts_late"} 0.0' in text
    assert 'tickwise_ticks_total{outcome="rejected"} 0.0' in text
