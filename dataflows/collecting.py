"""Run the live flow in this process and hand its history stream to a collector (backtests, replays).

The history stream is what the ClickHouse sink takes: every admitted tick batch, feature row,
prediction, decision, reject, monitor event, outcome and P&L row, keyed for the sink.
"""

from __future__ import annotations

from typing import Any, Protocol

from bytewax.inputs import Source
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.testing import run_main

from dataflows.outputs import Outputs


class Collector(Protocol):
    def add(self, record: Any) -> None: ...


class _CollectorPartition(StatelessSinkPartition[tuple[str, Any]]):
    def __init__(self, collector: Collector) -> None:
        self._collector = collector

    def write_batch(self, items: list[tuple[str, Any]]) -> None:
        for _key, record in items:
            self._collector.add(record)


class CollectingSink(DynamicSink[tuple[str, Any]]):
    """Takes the flow's keyed history stream in this process and adds each record to ``collector``."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _CollectorPartition:
        return _CollectorPartition(self.collector)


def collect_history(components: Any, source: Source, collector: Collector, flow_id: str) -> None:
    """Run ``build_flow`` once over ``source`` (fresh state) with only the history output, into ``collector``."""
    from dataflows.signals import build_flow

    outputs = Outputs(clickhouse=CollectingSink(collector), redis=None, signals=None, dead_letters=None,
                      model_events=None)
    run_main(build_flow(components, source, outputs, flow_id=flow_id))
