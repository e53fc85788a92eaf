"""What one ``write_batch`` of the Kafka sink costs, and (where the sink confirms delivery at each
epoch's snapshot) what the snapshot costs: printed, never asserted.

    python -m bench.kafka_sink_batch [--batches 400] [--epoch-batches 50]

Starts the embedded stack in a temporary directory (or reuses ``--bootstrap``), produces
``--batches`` batches of signals per batch size to a fresh topic and times each call.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from operators.messages import Decision
from sinks.kafka import KafkaSettings, ensure_topics, signal_sink
from sinks.metrics import MetricsRegistry


def decisions(count: int, start: int) -> list[Decision]:
    return [Decision(f"sig-{start + i}", f"S{i % 5}", 1_700_000_000_000_000_000 + start + i, 0, start + i, "v1", 1,
                     10.0, 1_000.0, 100.0, 0.3, "calm", True, "ok", "ACTIVE", 10.0) for i in range(count)]


def build(sink):
    """The sink's partition: a partitioned sink's first part, else a dynamic sink's worker 0 of 1."""
    if hasattr(sink, "build_part"):
        return sink.build_part("signals_out", sink.list_parts()[0], None)
    return sink.build("signals_out", 0, 1)


def measure(bootstrap: str, batch_size: int, batches: int, epoch_batches: int) -> dict[str, float]:
    settings = KafkaSettings(bootstrap, idempotence=False)
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [topic], 1)
    sink = signal_sink(settings, topic, MetricsRegistry())
    keyed = hasattr(sink, "build_part")
    partition = build(sink)
    writes: list[float] = []
    snapshots: list[float] = []
    for index in range(batches):
        items = decisions(batch_size, index * batch_size)
        began = time.perf_counter()
        partition.write_batch(items)
        writes.append(time.perf_counter() - began)
        if keyed and (index + 1) % epoch_batches == 0:
            began = time.perf_counter()
            partition.snapshot()
            snapshots.append(time.perf_counter() - began)
    began = time.perf_counter()
    partition.close()
    closing = time.perf_counter() - began
    total = sum(writes) + sum(snapshots) + closing
    writes.sort()
    return {"p50_ms": 1e3 * statistics.median(writes), "p99_ms": 1e3 * writes[int(0.99 * (len(writes) - 1))],
            "mean_ms": 1e3 * statistics.fmean(writes),
            "snapshot_mean_ms": 1e3 * statistics.fmean(snapshots) if snapshots else float("nan"),
            "per_item_us": 1e6 * total / (batch_size * batches)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", help="a running broker (default: start the embedded stack)")
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--epoch-batches", type=int, default=50, help="batches per epoch (a snapshot after each)")
    args = parser.parse_args()
    stack_dir = None
    bootstrap = args.bootstrap
    if bootstrap is None:
        from dataflows.stack import start_stack

        stack_dir = Path(tempfile.mkdtemp(prefix="kafka-sink-bench-"))
        bootstrap = start_stack(stack_dir).kafka_bootstrap
    try:
        print(f"{'batch':>6} {'write p50 ms':>13} {'write p99 ms':>13} {'write mean ms':>14} "
              f"{'snapshot ms':>12} {'us / item':>10}")
        for batch_size in (1, 10, 100):
            figures = measure(bootstrap, batch_size, args.batches, args.epoch_batches)
            print(f"{batch_size:>6} {figures['p50_ms']:>13.3f} {figures['p99_ms']:>13.3f} {figures['mean_ms']:>14.3f} "
                  f"{figures['snapshot_mean_ms']:>12.3f} {figures['per_item_us']:>10.1f}")
    finally:
        if stack_dir is not None:
            from dataflows.stack import stop_stack

            stop_stack(stack_dir)


if __name__ == "__main__":
    main()
