"""The Kafka sink on the real embedded broker (Tansu): exactly what was written comes back, and
delivery is confirmed at each epoch's snapshot."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from bytewax import operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource, run_main
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from dataflows.stack import StackInfo, free_port
from operators.messages import Decision, Reject
from sinks.kafka import (
    KafkaOutSink,
    KafkaSettings,
    SinkDeliveryError,
    _KafkaOutPartition,
    dead_letter_sink,
    ensure_topics,
    kafka_key,
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
    partition = signal_sink(settings, topic, metrics).build_part("signals_out", "kafka-0", None)
    sent = decisions(500)
    partition.write_batch(sent[:200])
    partition.snapshot()
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
    partition = dead_letter_sink(settings, topic, MetricsRegistry()).build_part("dlq_out", "kafka-0", None)
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


def unreachable() -> KafkaSettings:
    return KafkaSettings(f"127.0.0.1:{free_port()}", idempotence=False, message_timeout_ms=1_000,
                         flush_timeout_s=15.0, extra={"socket.connection.setup.timeout.ms": "1000"})


def test_delivery_to_an_unreachable_broker_raises_at_the_snapshot_instead_of_dropping() -> None:
    metrics = MetricsRegistry()
    partition = signal_sink(unreachable(), "signals", metrics).build_part("signals_out", "kafka-0", None)
    partition.write_batch(decisions(3))  # handed to the producer: nothing waits for the brokers here
    with pytest.raises(SinkDeliveryError, match=r"3 of 3 messages to topic 'signals' were not delivered"):
        partition.snapshot()
    assert metrics.value("tickwise_sink_errors_total", sink="kafka_signals") == 1


class CountingSink(KafkaOutSink):
    """The signal sink, counting the snapshots Bytewax asks its partitions for."""

    snapshots = 0

    def build_part(self, step_id: str, for_part: str, resume_state: None) -> _KafkaOutPartition:
        partition = super().build_part(step_id, for_part, resume_state)
        confirm = partition.snapshot

        def counted() -> None:
            CountingSink.snapshots += 1
            return confirm()

        partition.snapshot = counted  # type: ignore[method-assign]
        return partition


def test_signal_sink_inside_a_bytewax_dataflow_delivers_every_item_and_confirms_at_each_epoch(
        stack: StackInfo, topic_prefix: str) -> None:
    topic = f"{topic_prefix}-flow-signals"
    settings = KafkaSettings(stack.kafka_bootstrap, idempotence=False)
    ensure_topics(settings, [topic], PARTITIONS)
    flow = Dataflow("kafka_sink_spec")
    sent = decisions(300)
    stream = op.input("decisions", flow, TestingSource(sent, batch_size=64))
    sink = CountingSink(settings, topic, signal_sink(settings, topic).serializer, MetricsRegistry(), "kafka_signals")
    CountingSink.snapshots = 0
    op.output("signals_out", op.map("key_signals", stream, kafka_key), sink)
    run_main(flow, epoch_interval=timedelta(0))  # an epoch per source batch
    received = read_back(stack.kafka_bootstrap, topic, len(sent))
    assert sorted(orjson.loads(m.value())["signal_id"] for m in received) == sorted(d.signal_id for d in sent)
    assert CountingSink.snapshots >= 2


def test_a_dataflow_whose_brokers_are_unreachable_fails_at_the_epoch_snapshot() -> None:
    flow = Dataflow("kafka_sink_unreachable")
    stream = op.input("decisions", flow, TestingSource(decisions(5), batch_size=5))
    op.output("signals_out", op.map("key_signals", stream, kafka_key),
              signal_sink(unreachable(), "signals", MetricsRegistry()))
    with pytest.raises(Exception, match="error snapshotting StatefulSink") as raised:
        run_main(flow)
    causes = []
    error: BaseException | None = raised.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(cause, SinkDeliveryError) and str(cause).startswith(
        "kafka sink: 5 of 5 messages to topic 'signals' were not delivered") for cause in causes), causes
