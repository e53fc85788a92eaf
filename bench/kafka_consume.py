"""The ingestion limit: raw confluent-kafka consume + ``decode_tick`` of a topic, to EOF.

One consumer on all partitions with librdkafka's defaults, or (``--per-partition``) one
consumer per partition polled in turn, as the flow's source does, each message decoded and
validated by ``operators.ingest.validation.decode_tick`` (the flow's own first step). The floor no
flow on this broker can beat. Run by ``bench.flow_throughput`` in its own process:

    python -m bench.kafka_consume --bootstrap 127.0.0.1:9092 --topic t.ticks --out /tmp/consume.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import orjson

from bench.child import write_result
from bench.machine import loadavg, own_memory_mb

CONSUME_BATCH = 5000
# The flow's source (dataflows/sources.py) caps librdkafka's prefetch queue at
# max(10_000, 2 x batch) messages per partition; measured both ways.
# What ``dataflows/sources.py`` sets with the default settings (poll wait and fetch wait).
SOURCE_POLL_S = 0.001
SOURCE_LIKE_CONFIG: dict[str, object] = {"fetch.min.bytes": 1, "fetch.wait.max.ms": 10}


def kafka_consume(bootstrap: str, topic: str, per_partition: bool = False, extra: dict[str, object] | None = None,
                  timeout_s: float = 600.0) -> dict[str, object]:
    """Consume every partition of ``topic`` to EOF, each message through ``decode_tick``."""
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    from dataflows.sources import list_partitions
    from operators.messages import SourceRecord
    from operators.ingest.validation import ValidationLimits, decode_tick

    limits = ValidationLimits()
    partitions = list_partitions(bootstrap, topic)
    started = time.perf_counter()
    config = {"bootstrap.servers": bootstrap, "group.id": f"bench-{topic}", "enable.auto.commit": False,
              "enable.auto.offset.store": False, "enable.partition.eof": True, "auto.offset.reset": "earliest",
              **(extra or {})}
    groups = [[partition] for partition in partitions] if per_partition else [partitions]
    consumers = []
    for group in groups:
        consumer = Consumer(config)
        consumer.assign([TopicPartition(topic, partition, 0) for partition in group])
        consumers.append((consumer, set(group)))
    finished: set[int] = set()
    valid = rejected = 0
    decode_s = 0.0
    deadline = time.monotonic() + timeout_s
    try:
        while len(finished) < len(partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: {len(finished)} of {len(partitions)} partitions reached EOF")
            for consumer, owned in consumers:
                if owned <= finished:
                    continue
                batch = consumer.consume(CONSUME_BATCH, SOURCE_POLL_S if per_partition else 0.05)
                t0 = time.perf_counter()
                for message in batch:
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            finished.add(message.partition())
                            continue
                        raise RuntimeError(f"consuming {topic} failed: {error}")
                    result = decode_tick(SourceRecord(topic, message.partition(), message.offset(), message.key(),
                                                      message.value()), limits)
                    if hasattr(result, "tick"):
                        valid += 1
                    else:
                        rejected += 1
                decode_s += time.perf_counter() - t0
    finally:
        for consumer, _ in consumers:
            consumer.close()
    elapsed = time.perf_counter() - started
    total = valid + rejected
    return {"ticks_in": total, "ticks_valid": valid, "ticks_rejected": rejected, "elapsed_s": round(elapsed, 3),
            "ticks_per_s": round(total / elapsed, 1) if elapsed > 0 else 0.0,
            "decode_s": round(decode_s, 3), "decode_us_per_tick": round(decode_s / total * 1e6, 2) if total else None,
            "loadavg_after": loadavg(), "consumers": len(consumers),
            "config": {k: v for k, v in config.items() if k != "bootstrap.servers"}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.kafka_consume", description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--per-partition", action="store_true", help="flow-source layout and prefetch config")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    extra = SOURCE_LIKE_CONFIG if args.per_partition else None
    result = kafka_consume(args.bootstrap, args.topic, per_partition=args.per_partition, extra=extra)
    result.update(own_memory_mb())
    write_result(args.out, result)
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
