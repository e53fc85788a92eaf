"""Per-stage latency and counts around the flow's steps (wiring only, no logic)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from operators.messages import Decision, DriftEvent, Reject, ValidTick
from sinks.metrics import MetricsRegistry

X = TypeVar("X")
Y = TypeVar("Y")
S = TypeVar("S")


class FlowMetrics:
    """Adapters that time a step and count what flows through it."""

    def __init__(self, registry: MetricsRegistry) -> None:
        self.registry = registry

    def timed(self, stage: str, function: Callable[[X], Y]) -> Callable[[X], Y]:
        observe = self.registry.stage_latency.labels(stage=stage).observe
        items = self.registry.stage_items.labels(stage=stage).inc
        clock = time.perf_counter

        def run(item: X) -> Y:
            started = clock()
            result = function(item)
            observe(clock() - started)
            items()
            return result

        return run

    def timed_batch(self, stage: str, function: Callable[[Sequence[X]], list[Y]]) -> Callable[[Sequence[X]], list[Y]]:
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

    def timed_state(self, stage: str, function: Callable[[S | None, X], tuple[S, Y]]
                    ) -> Callable[[S | None, X], tuple[S, Y]]:
        observe = self.registry.stage_latency.labels(stage=stage).observe
        items = self.registry.stage_items.labels(stage=stage).inc
        clock = time.perf_counter

        def run(state: S | None, item: X) -> tuple[S, Y]:
            started = clock()
            result = function(state, item)
            observe(clock() - started)
            items()
            return result

        return run

    def count_admitted(self, _step_id: str, _item: ValidTick) -> None:
        self.registry.count_ticks(valid=1)

    def count_reject(self, _step_id: str, item: Reject) -> None:
        # Rejects of every stage (decode and event-time guard) are counted once, here.
        self.registry.count_ticks(rejected=1)
        self.registry.count_reject(item.reason)

    def count_drift(self, _step_id: str, _item: DriftEvent) -> None:
        self.registry.drift_events.inc()

    def count_decision(self, _step_id: str, item: Decision) -> None:
        self.registry.count_decision(item.accepted, item.reason)
