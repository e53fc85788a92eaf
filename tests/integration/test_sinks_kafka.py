"""The Kafka sink on the real embedded broker (Tansu): exactly what was written comes back."""

from __future__ import annotations

import orjson
import pytest
from bytewax import operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource, run_main
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from dataflows.stack import StackInfo, free_port
from operators.messages import Decision, Reject
from sinks.kafka import (
    KafkaSettings,
    SinkDeliveryError,
    dead_letter_sink,
    ensure_topics,
    signal_sink,
)
from sinks.metrics import MetricsRegistry

pytestmark = pytest.mark.integration

PARTITIONS = 2


def decisions(count: int) -> list[Decision]:
    return [Decision(f"sig-{i}", f"S{i % 5}", 1_700_000_000_000_000_000 + i, 0, i, "v1", 1, 10.0, 1_000.0,
                     100.0, 0.3, "calm", True, "ok", "ACTIVE", 10.0) for i in range(count)]


def read_back(bootstrap: str, topic: str, expected: int, timeout_s: float = 30.0) -> list[Message]:
    """Every message of ``topic`` from the beginning; waits for ``expected`` then 1 s more."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-reader",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    messages: list[Message] = []
    try:
        for _ in range(int(timeout_s / 0.5)):
            batch = consumer.consume(10_000, timeout=0.5)
            messages.extend(m for m in batch if m.error() is None)
            if len(messages) >= expected and not batch:
                break
    finally:
        consumer.close()
    return messages


def test_ensure_topics_creates_once_and_accepts_existing_topics(stack: StackInfo, topic_prefix: str) -> None:
    settings = KafkaSettings(stack.kafka_bootstrap)
    names = [f"{topic_prefix}-a", f"{topic_prefix}-b"]
    assert ensure_topics(settings, names, PARTITIONS) == names
    assert ensure_topics(settings, names, PARTITIONS) == []


def test_signal_sink_with_idempotent_producer_delivers_exactly_the_messages(
        stack: StackInfo, topic_prefix: str) -> None:
    topic = f"{topic_prefix}-signals"
    settings = KafkaSettings(stack.kafka_bootstrap, idempotence=True)
    ensure_topics(settings, [topic], PARTITIONS)
    metrics = MetricsRegistry()
    partition = signal_sink(settings, topic, metrics).build("signals_out", 0, 1)
    sent = decisions(500)
    partition.write_batch(sent[:200])
    partition.write_batch(sent[200:])
    partition.close()
    received = read_back(stack.kafka_bootstrap, topic, len(sent))
    assert sorted(orjson.loads(m.value())["signal_id"] for m in received) == sorted(d.signal_id for d in sent)
    assert {(m.key(), orjson.loads(m.value())["signal_id"]) for m in received} == {
        (d.symbol.encode(), d.signal_id) for d in sent}
    assert metrics.value("tickwise_sink_rows_total", sink="kafka_signals", table=topic) == 500


def test_dead_letter_sink_delivers_original_bytes_with_reason_headers(stack: StackInfo, topic_prefix: str) -> None:
    topic = f"{topic_prefix}-ticks.dlq"
    settings = KafkaSettings(stack.kafka_bootstrap, idempotence=False)
    ensure_topics(settings, [topic], PARTITIONS)
    rejects = [
        Reject("invalid_json", "decode: expected JSON, got b'{\\xff'", "decode", "ticks", 1, 17, b"{\xff"),
        Reject("price_out_of_bounds", "validate: expected price in (0, 1e6], got nan", "validate", "ticks", 0,
               4, b'{"type":"trade","symbol":"IBM","price":NaN}', symbol="IBM", ts_ns=5),
    ]
    partition = dead_letter_sink(settings, topic, MetricsRegistry()).build("dlq_out", 0, 1)
    partition.write_batch(rejects)
    partition.close()
    received = sorted(read_back(stack.kafka_bootstrap, topic, 2), key=lambda m: m.value())
    assert len(received) == 2
    by_offset = {dict(m.headers())["tickwise.source.offset"]: m for m in received}
    bad_json, nan_price = by_offset[b"17"], by_offset[b"4"]
    assert bad_json.value() == b"{\xff"
    assert bad_json.key() is None
    assert dict(bad_json.headers()) == {
        "tickwise.reason": b"invalid_json", "tickwise.detail": "decode: expected JSON, got b'{\\xff'".encode(),
        "tickwise.stage": b"decode", "tickwise.source.topic": b"ticks", "tickwise.source.partition": b"1",
        "tickwise.source.offset": b"17"}
    assert nan_price.key() == b"IBM"
    assert nan_price.value() == b'{"type":"trade","symbol":"IBM","price":NaN}'
    assert dict(nan_price.headers())["tickwise.reason"] == b"price_out_of_bounds"


def test_delivery_to_an_unreachable_broker_raises_instead_of_dropping() -> None:
    settings = KafkaSettings(f"127.0.0.1:{free_port()}", idempotence=False, message_timeout_ms=1_000,
                             flush_timeout_s=15.0, extra={"socket.connection.setup.timeout.ms": "1000"})
    metrics = MetricsRegistry()
    partition = signal_sink(settings, "signals", metrics).build("signals_out", 0, 1)
    with pytest.raises(SinkDeliveryError, match=r"3 of 3 messages to topic 'signals' were not delivered"):
        partition.write_batch(decisions(3))
    assert metrics.value("tickwise_sink_errors_total", sink="kafka_signals") == 1


def test_signal_sink_inside_a_bytewax_dataflow_delivers_every_item(stack: StackInfo, topic_prefix: str) -> None:
    topic = f"{topic_prefix}-flow-signals"
    settings = KafkaSettings(stack.kafka_bootstrap, idempotence=False)
    ensure_topics(settings, [topic], PARTITIONS)
    flow = Dataflow("kafka_sink_spec")
    sent = decisions(300)
    stream = op.input("decisions", flow, TestingSource(sent, batch_size=64))
    op.output("signals_out", stream, signal_sink(settings, topic, MetricsRegistry()))
    run_main(flow)
    received = read_back(stack.kafka_bootstrap, topic, len(sent))
    assert sorted(orjson.loads(m.value())["signal_id"] for m in received) == sorted(d.signal_id for d in sent)
