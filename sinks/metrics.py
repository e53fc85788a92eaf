"""Prometheus metrics of the tickwise engine, held in one passable ``MetricsRegistry``.

Nothing is created at import time: a ``MetricsRegistry()`` owns its own
``CollectorRegistry`` (so tests and several flows in one process never collide), and
``default_metrics()`` lazily creates the one instance a process normally shares.
Names use full words and units (``_seconds``, ``_total``) as Prometheus recommends.

>>> metrics = MetricsRegistry()
>>> metrics.observe_stage("features", 0.002, items=4)
>>> metrics.value("tickwise_stage_items_total", stage="features")
4.0
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS_SECONDS: tuple[float, ...] = (
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
)
CONFIDENCE_BUCKETS: tuple[float, ...] = (0.5, 0.51, 0.525, 0.55, 0.6, 0.65, 0.7, 0.8, 0.9, 1.0)  # max(p, 1 - p)
CALIBRATION_BUCKETS = 10

#: Gauges per (model_version, symbol) that show one field of the model's latest record for the symbol,
#: declared once for the gauge and its update (``MetricsRegistry.show_latest``): name -> (field, help).
#: The live statistics of resolved predictions (fields of ``Outcome``):
LIVE_GAUGES: dict[str, tuple[str, str]] = {
    "tickwise_live_accuracy_ratio": ("rolling_accuracy",
                                     "Rolling share of resolved predictions whose direction was right."),
    "tickwise_live_log_loss": ("rolling_log_loss", "Rolling mean log loss of resolved predictions."),
    "tickwise_live_brier_score": ("rolling_brier", "Rolling mean Brier score of resolved predictions."),
    "tickwise_live_average_confidence_ratio": ("rolling_confidence",
                                               "Rolling mean confidence of resolved predictions."),
}
#: The paper book (fields of ``PnlRow``):
PAPER_GAUGES: dict[str, tuple[str, str]] = {
    "tickwise_paper_position_shares": ("position", "Paper book position (signed shares)."),
    "tickwise_paper_realized_pnl_dollars": ("realized_pnl", "Paper realized P&L before fees."),
    "tickwise_paper_unrealized_pnl_dollars": ("unrealized_pnl", "Paper unrealized P&L marked to mid."),
    "tickwise_paper_total_pnl_dollars": ("total_pnl", "Paper realized + unrealized P&L minus fees."),
    "tickwise_paper_win_rate_ratio": ("win_rate", "Closing paper fills that made money after fees."),
    "tickwise_paper_sharpe_ratio": ("sharpe", "Rolling annualised Sharpe ratio of per-interval paper P&L changes."),
    "tickwise_paper_drawdown_dollars": ("drawdown", "Paper total P&L below its running peak."),
}


class MetricsRegistry:
    """Every tickwise metric, registered in a private ``CollectorRegistry``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.ticks = Counter(
            "tickwise_ticks_total", "Messages read from the ticks topic (trades, quotes, depth and option messages, events), by validation outcome.", ["outcome"], registry=r)
        self.rejects = Counter(
            "tickwise_rejects_total", "Messages rejected, by reason code.", ["reason"], registry=r)
        self.stage_items = Counter(
            "tickwise_stage_items_total", "Items processed by each stage.", ["stage"], registry=r)
        self.stage_latency = Histogram(
            "tickwise_stage_latency_seconds", "Time a stage spent on one batch.", ["stage"],
            buckets=LATENCY_BUCKETS_SECONDS, registry=r)
        self.sink_rows = Counter(
            "tickwise_sink_rows_total", "Rows delivered by a sink, by target table or topic.",
            ["sink", "table"], registry=r)
        self.sink_stale_rows = Counter(
            "tickwise_sink_stale_rows_total",
            "Rows a sink skipped because the store already held a newer one (replays).",
            ["sink"], registry=r)
        self.sink_errors = Counter(
            "tickwise_sink_errors_total", "Failed sink deliveries (each raised).", ["sink"], registry=r)
        self.redis_write_failures = Counter(
            "tickwise_redis_write_failures_total",
            "Failed writes of the Redis feature store (retried with backoff; signals go on).", registry=r)
        self.redis_pending_symbols = Gauge(
            "tickwise_redis_pending_symbols",
            "Symbols whose latest feature row waits for Redis to come back.", registry=r)
        self.redis_last_success = Gauge(
            "tickwise_redis_last_success_timestamp_seconds",
            "Wall-clock time of the last successful Redis feature write.", registry=r)
        self.redis_unwritten_rows = Counter(
            "tickwise_redis_unwritten_rows_total",
            "Feature rows still pending when the Redis sink closed (logged with their symbols).", registry=r)
        self.drift_events = Counter(
            "tickwise_drift_events_total",
            "Monitor events (model-events topic), by kind (feature_investigation and feature_investigation_closed "
            "from the standardised monitor and PSI, retrain, model_review; feature_drift from the River detectors) "
            "and detector (ewma_z/ewma_abs_z with their windows, psi, cusum, threshold, adwin, page_hinkley, kswin).",
            ["kind", "detector"], registry=r)
        self.consumer_lag = Gauge(
            "tickwise_consumer_lag_messages",
            "Messages between the source's next offset and the partition's high watermark, per partition.",
            ["topic", "partition"], registry=r)
        self.feature_psi = Gauge(
            "tickwise_feature_population_stability_index",
            "PSI of a feature over the sliding window vs its training distribution.", ["symbol", "feature"],
            registry=r)
        self.model_symbol_gauges = {name: Gauge(name, documentation, ["model_version", "symbol"], registry=r)
                                    for name, (_field, documentation) in {**LIVE_GAUGES, **PAPER_GAUGES}.items()}
        self.outcomes = Counter(
            "tickwise_prediction_outcomes_total",
            "Resolved predictions by calibration bucket of p_up (0..9) and realized move (up/down).",
            ["model_version", "bucket", "realized"], registry=r)
        self.confidence = Histogram(
            "tickwise_prediction_confidence_ratio", "Confidence of resolved predictions.", ["model_version"],
            buckets=CONFIDENCE_BUCKETS, registry=r)
        self.paper_fills = Counter(
            "tickwise_paper_fills_total", "Paper fills of accepted signals.", ["model_version", "symbol"], registry=r)
        self.signals = Counter(
            "tickwise_signals_total", "Risk decisions, by outcome and reason.",
            ["decision", "reason"], registry=r)
        self.model_info = Gauge(
            "tickwise_model_info", "The model version being served (value is always 1).",
            ["version"], registry=r)
        self.symbols_over_reject_share = Gauge(
            "tickwise_symbols_over_reject_share",
            "Symbols whose share of rejected ticks over their latest TICKWISE_SYMBOL_REJECT_WINDOW ticks passed "
            "TICKWISE_SYMBOL_REJECT_SHARE (each is named once in the log when it crosses).", registry=r)
        self.symbol_states = Gauge(
            "tickwise_symbol_states", "Symbols whose per-symbol state this process holds.", registry=r)
        self.symbols_released = Counter(
            "tickwise_symbols_released_total",
            "Symbols whose state was released after TICKWISE_SYMBOL_IDLE_S of silence (live runs).", registry=r)
        self.symbol_idle_restarts = Counter(
            "tickwise_symbol_idle_restarts_total",
            "Symbols that started fresh after an event-time gap longer than TICKWISE_SYMBOL_IDLE_S.", registry=r)
        self._model_version: str | None = None
        self._lock = threading.Lock()

    def observe_stage(self, stage: str, seconds: float, items: int = 1) -> None:
        """Record one batch of ``items`` that took ``seconds`` in ``stage``."""
        self.stage_latency.labels(stage=stage).observe(seconds)
        if items:
            self.stage_items.labels(stage=stage).inc(items)

    def count_ticks(self, valid: int = 0, rejected: int = 0) -> None:
        if valid:
            self.ticks.labels(outcome="valid").inc(valid)
        if rejected:
            self.ticks.labels(outcome="rejected").inc(rejected)

    def declare_rejects(self, reasons: Iterable[str]) -> None:
        """Create the tick counters and a reject series per reason at 0: a series that first
        appears with its whole burst already counted is invisible to ``rate()``."""
        self.ticks.labels(outcome="valid")
        self.ticks.labels(outcome="rejected")
        for reason in reasons:
            self.rejects.labels(reason=reason)

    def count_reject(self, reason: str, count: int = 1) -> None:
        self.rejects.labels(reason=reason).inc(count)

    def count_decision(self, accepted: bool, reason: str, count: int = 1) -> None:
        self.signals.labels(decision="accepted" if accepted else "denied", reason=reason).inc(count)

    def count_sink_rows(self, sink: str, table: str, rows: int) -> None:
        if rows:
            self.sink_rows.labels(sink=sink, table=table).inc(rows)

    def count_sink_stale(self, sink: str, rows: int) -> None:
        if rows:
            self.sink_stale_rows.labels(sink=sink).inc(rows)

    def count_sink_error(self, sink: str) -> None:
        self.sink_errors.labels(sink=sink).inc()

    def declare_sink(self, sink: str) -> None:
        """Export ``tickwise_sink_errors_total{sink=...} 0`` before any error (so rates and alerts
        see the series from the start, not only after the first failure)."""
        self.sink_errors.labels(sink=sink)

    def record_redis_write(self, ok: bool, pending_change: int, now_s: float) -> None:
        """One attempt of a Redis feature sink partition: a failure counts; ``pending_change`` is the change
        of its pending symbols (a delta: several partitions of one process add up in the gauge)."""
        if ok:
            self.redis_last_success.set(now_s)
        else:
            self.redis_write_failures.inc()
        if pending_change:
            self.redis_pending_symbols.inc(pending_change)

    def count_redis_unwritten(self, rows: int) -> None:
        if rows:
            self.redis_unwritten_rows.inc(rows)

    def count_monitor_event(self, kind: str, detector: str, count: int = 1) -> None:
        self.drift_events.labels(kind=kind, detector=detector).inc(count)

    def show_latest(self, gauges: Mapping[str, tuple[str, str]], record: object, model_version: str,
                    symbol: str) -> None:
        """Set each of ``gauges`` (``LIVE_GAUGES`` or ``PAPER_GAUGES``) of the model and symbol to its field
        of ``record`` (an ``Outcome`` or a ``PnlRow``)."""
        for name, (field, _documentation) in gauges.items():
            gauge = self.model_symbol_gauges[name]
            gauge.labels(model_version=model_version, symbol=symbol).set(getattr(record, field))

    def set_consumer_lag(self, topic: str, partition: int, lag: int) -> None:
        self.consumer_lag.labels(topic=topic, partition=str(partition)).set(max(0, lag))

    def set_model_version(self, version: str) -> None:
        """Expose ``tickwise_model_info{version=...} 1``, dropping the previous version's series."""
        with self._lock:
            if self._model_version is not None and self._model_version != version:
                self.model_info.remove(self._model_version)
            self.model_info.labels(version=version).set(1)
            self._model_version = version

    def value(self, name: str, **labels: str) -> float | None:
        """The current value of one sample (tests and summaries), or None if never set."""
        return self.registry.get_sample_value(name, labels)


_default: MetricsRegistry | None = None
_default_lock = threading.Lock()


def default_metrics() -> MetricsRegistry:
    """The process-wide registry, created on first use (never at import)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = MetricsRegistry()
        return _default


def observe_stage(stage: str, seconds: float, items: int = 1, metrics: MetricsRegistry | None = None) -> None:
    """Record one stage batch on ``metrics`` (default: the process-wide registry)."""
    (metrics or default_metrics()).observe_stage(stage, seconds, items)


def start_metrics_server(
    port: int, host: str = "127.0.0.1", metrics: MetricsRegistry | None = None
) -> tuple[WSGIServer, threading.Thread]:
    """Serve ``/metrics`` on ``host:port`` (loopback unless a host is named explicitly).

    ``prometheus_client.start_http_server`` binds every interface by default; this
    wrapper never does unless the caller asks for it. ``port=0`` picks a free port
    (read it back from ``server.server_port``).
    """
    registry = (metrics or default_metrics()).registry
    server, thread = start_http_server(port, addr=host, registry=registry)
    return server, thread
