"""The signal flow's metrics: per-stage latency and counts around its steps (wiring only, no logic).

Hot streams (every tick) are counted once per batch: the ``*_batch`` recorders are
``flat_map_batch`` mappers that update each metric once for the whole batch and pass
nothing on (a per-tick ``inspect`` with a Prometheus update cost about 20% of the flow).
Gauges that hold the latest value per model and symbol are set once per batch with the
last item of each key. Decisions, one per prediction, are counted as they pass.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Sequence
from typing import TypeVar

from operators.ingest.reject_share import RejectShare
from operators.ingest.validation import REJECT_REASONS
from operators.messages import Decision, DriftEvent, Outcome, PnlRow, Reject, TickBatch
from operators.monitoring.outcomes import calibration_bucket
from operators.monitoring.psi import PsiReading
from sinks.metrics import LIVE_GAUGES, PAPER_GAUGES, MetricsRegistry

X = TypeVar("X")
Y = TypeVar("Y")

logger = logging.getLogger("tickwise.symbols")


class SymbolStates:
    """The per-symbol step's reports (``dataflows.symbol_step.SymbolWatch``): how many symbols this
    process holds, which are over their reject share (a set of at most the held symbols; the
    gauge is its size, and each crossing names the symbol once in the log), releases, restarts and
    ticks outside the trading session (``tickwise_stage_items_total{stage="outside_session"}``).
    Worker threads of one process share it."""

    def __init__(self, registry: MetricsRegistry) -> None:
        self._registry = registry
        self._over: set[str] = set()
        self._lock = threading.Lock()
        registry.symbols_over_reject_share.set(0)

    def built(self) -> None:
        self._registry.symbol_states.inc()

    def released(self, symbol: str | None) -> None:
        self._registry.symbol_states.dec()
        self._registry.symbols_released.inc()

    def restarted(self, symbol: str) -> None:
        self._registry.symbol_idle_restarts.inc()
        logger.info("symbol %r starts fresh: its event time jumped further than TICKWISE_SYMBOL_IDLE_S", symbol)

    def outside_session(self, symbol: str, count: int) -> None:
        """Admitted ticks outside the symbol's trading session (kept from the features, not rejected)."""
        self._registry.stage_items.labels(stage="outside_session").inc(count)

    def rejecting(self, symbol: str, share: RejectShare, over: bool, reason: str | None) -> None:
        with self._lock:
            if over:
                self._over.add(symbol)
            else:
                self._over.discard(symbol)
            self._registry.symbols_over_reject_share.set(len(self._over))
        if over:
            logger.warning("symbol %r rejects %.1f%% of its latest ticks (over TICKWISE_SYMBOL_REJECT_SHARE; latest "
                           "reason %s)", symbol, 100 * share.share, reason or "unknown")
        else:
            logger.info("symbol %r is back under TICKWISE_SYMBOL_REJECT_SHARE (%.1f%% of its latest ticks rejected)",
                        symbol, 100 * share.share)


class FlowMetrics:
    """Adapters that time a step and count what flows through it."""

    def __init__(self, registry: MetricsRegistry) -> None:
        self.registry = registry
        self.symbol_states = SymbolStates(registry)
        registry.declare_rejects(REJECT_REASONS)

    def timed_batch(self, stage: str, function: Callable[[Sequence[X]], list[Y]]) -> Callable[[Sequence[X]], list[Y]]:
        """``function`` over a batch, its latency and item count recorded under ``stage``."""
        observe = self.registry.stage_latency.labels(stage=stage).observe
        items = self.registry.stage_items.labels(stage=stage).inc
        clock = time.perf_counter

        def run(batch: Sequence[X]) -> list[Y]:
            started = clock()
            result = function(batch)
            observe(clock() - started)
            items(len(batch))
            return result

        return run

    # -- recorders: ``flat_map_batch`` mappers that return nothing ---------------------------------

    def count_admitted_batch(self, batch: Sequence[TickBatch]) -> list[None]:
        self.registry.count_ticks(valid=sum(len(item) for item in batch))
        return []

    def count_rejects_batch(self, batch: Sequence[Reject]) -> list[None]:
        # Rejects of every stage (decode and event-time guard) are counted once, here.
        self.registry.count_ticks(rejected=len(batch))
        for reason, count in Tally(item.reason for item in batch).items():
            self.registry.count_reject(reason, count)
        return []

    def count_monitor_events_batch(self, batch: Sequence[DriftEvent]) -> list[None]:
        for (kind, detector), count in Tally((item.kind, item.detector) for item in batch).items():
            self.registry.count_monitor_event(kind, detector, count)
        return []

    def record_psi_batch(self, batch: Sequence[PsiReading]) -> list[None]:
        latest = {(item.symbol, item.feature): item.psi for item in batch}
        gauge = self.registry.feature_psi
        for (symbol, feature), psi in latest.items():
            gauge.labels(symbol=symbol, feature=feature).set(psi)
        return []

    def record_outcomes_batch(self, batch: Sequence[Outcome]) -> list[None]:
        registry = self.registry
        latest: dict[tuple[str, str], Outcome] = {}
        buckets: Tally[tuple[str, int, bool]] = Tally()
        for item in batch:
            latest[(item.model_version, item.symbol)] = item
            buckets[(item.model_version, calibration_bucket(item.p_up), item.realized_up)] += 1
            registry.confidence.labels(model_version=item.model_version).observe(item.confidence)
        for (version, bucket, realized_up), count in buckets.items():
            registry.outcomes.labels(model_version=version, bucket=str(bucket),
                                     realized="up" if realized_up else "down").inc(count)
        for (version, symbol), item in latest.items():
            registry.show_latest(LIVE_GAUGES, item, version, symbol)
        return []

    def record_pnl_batch(self, batch: Sequence[PnlRow]) -> list[None]:
        registry = self.registry
        latest: dict[tuple[str, str], PnlRow] = {}
        fills: Tally[tuple[str, str]] = Tally()
        for item in batch:
            latest[(item.model_version, item.symbol)] = item
            if item.reason == "fill":
                fills[(item.model_version, item.symbol)] += 1
        for (version, symbol), count in fills.items():
            registry.paper_fills.labels(model_version=version, symbol=symbol).inc(count)
        for (version, symbol), row in latest.items():
            registry.show_latest(PAPER_GAUGES, row, version, symbol)
        return []

    def count_decision(self, _step_id: str, item: Decision) -> None:
        self.registry.count_decision(item.accepted, item.reason)
