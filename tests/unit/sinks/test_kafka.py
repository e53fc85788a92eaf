"""Unit specification of the Kafka sink: settings, serializers, and delivery accounting."""

from __future__ import annotations

import logging

import orjson
import pytest
from confluent_kafka import KafkaError

from operators.messages import Decision, DriftEvent, Reject
from sinks.kafka import (
    KafkaMessage,
    KafkaOutSink,
    KafkaSettings,
    SinkDeliveryError,
    _KafkaOutPartition,
    dead_letter_message,
    kafka_key,
    model_event_message,
    signal_message,
)
from sinks.failure import FAILURE_MARKER, report_failure
from sinks.metrics import MetricsRegistry


def a_decision(accepted: bool = True) -> Decision:
    return Decision(signal_id="sig-1", symbol="IBM", ts_ns=1_700_000_000_000_000_123, partition=2, offset=99,
                    model_version="v7", direction=1, size=100.0, notional=15_000.0, price=150.0,
                    confidence=0.4, regime="calm", accepted=accepted, reason="ok", trading_state="ACTIVE",
                    position_after=100.0)


def a_reject(symbol: str | None = None) -> Reject:
    return Reject(reason="price_out_of_bounds", detail="validate: expected 0 < price <= 1e6, got -1",
                  stage="validate", topic="ticks", partition=3, offset=41, raw=b'{"price": -1}\xff',
                  symbol=symbol, ts_ns=None)


class FakeProducer:
    """Calls delivery callbacks on flush (and on poll when ``report_on_poll``); ``fail`` names the values
    whose delivery fails."""

    def __init__(self, fail: set[bytes] = frozenset(), stuck: int = 0, full_once: bool = False,
                 report_on_poll: bool = False) -> None:
        self.fail = fail
        self.report_on_poll = report_on_poll
        self.flushes = 0
        self.stuck = stuck
        self.full_once = full_once
        self.pending: list[tuple[bytes, object]] = []
        self.produced: list[tuple[str, bytes | None, bytes, list]] = []
        self.polls = 0
        self.closed = False

    def produce(self, topic, value, key, headers, on_delivery) -> None:
        if self.full_once:
            self.full_once = False
            raise BufferError("Local: Queue full")
        self.produced.append((topic, key, value, headers))
        self.pending.append((value, on_delivery))

    def poll(self, timeout: float) -> int:
        self.polls += 1
        if self.report_on_poll:
            self._report()
        return 0

    def flush(self, timeout: float) -> int:
        self.flushes += 1
        self._report()
        return self.stuck

    def _report(self) -> None:
        for value, callback in self.pending:
            callback(KafkaError(KafkaError._MSG_TIMED_OUT) if value in self.fail else None, None)
        self.pending.clear()

    def close(self) -> bool:
        self.closed = True
        return True


def a_partition(producer: FakeProducer, metrics: MetricsRegistry) -> _KafkaOutPartition[int]:
    settings = KafkaSettings("127.0.0.1:9092", flush_timeout_s=1.0)
    sink = KafkaOutSink(settings, "signals", lambda i: KafkaMessage(b"k", b"%d" % i, []), metrics, "kafka")
    return _KafkaOutPartition(sink, metrics, producer)


def test_settings_produce_with_acks_all_idempotence_and_pass_extra_options_through() -> None:
    settings = KafkaSettings("b:9092", extra={"security.protocol": "SASL_SSL", "linger.ms": "1"})
    config = settings.producer_config()
    assert config["acks"] == "all"
    assert config["enable.idempotence"] is True
    assert config["security.protocol"] == "SASL_SSL"
    assert config["linger.ms"] == "1"
    assert KafkaSettings("b:9092", idempotence=False).producer_config()["enable.idempotence"] is False


def test_redacted_view_and_repr_mask_every_secret_option() -> None:
    settings = KafkaSettings("b:9092", extra={
        "sasl.username": "desk", "sasl.password": "hunter2", "ssl.key.password": "pem-secret",
        "sasl.oauthbearer.client.secret": "oauth-secret", "ssl.key.pem": "-----BEGIN"})
    redacted = settings.redacted()
    assert redacted["sasl.username"] == "desk"
    for option in ("sasl.password", "ssl.key.password", "sasl.oauthbearer.client.secret", "ssl.key.pem"):
        assert redacted[option] == "***"
    for secret in ("hunter2", "pem-secret", "oauth-secret", "BEGIN"):
        assert secret not in repr(settings)


def test_settings_refuse_an_empty_bootstrap() -> None:
    with pytest.raises(ValueError, match="bootstrap"):
        KafkaSettings("")


def test_signal_message_keys_by_symbol_and_carries_every_decision_field() -> None:
    message = signal_message(a_decision())
    value = orjson.loads(message.value)
    assert message.key == b"IBM"
    assert value["signal_id"] == "sig-1"
    assert value["model_version"] == "v7"
    assert value["reason"] == "ok"
    assert value["trading_state"] == "ACTIVE"
    assert value["ts_ns"] == 1_700_000_000_000_000_123
    assert value["accepted"] is True
    assert (value["source_partition"], value["source_offset"]) == (2, 99)
    assert ("tickwise.signal_id", b"sig-1") in message.headers


def test_dead_letter_message_keeps_the_original_bytes_and_says_why_in_headers() -> None:
    message = dead_letter_message(a_reject())
    assert message.value == b'{"price": -1}\xff'
    assert message.key is None
    assert dict(message.headers) == {
        "tickwise.reason": b"price_out_of_bounds",
        "tickwise.detail": b"validate: expected 0 < price <= 1e6, got -1",
        "tickwise.stage": b"validate",
        "tickwise.source.topic": b"ticks",
        "tickwise.source.partition": b"3",
        "tickwise.source.offset": b"41",
    }


def test_dead_letter_message_keys_by_symbol_when_it_is_known() -> None:
    assert dead_letter_message(a_reject(symbol="MSFT")).key == b"MSFT"


def test_model_event_message_is_json_keyed_by_symbol() -> None:
    event = DriftEvent(event_id="e-1", symbol="IBM", ts_ns=5, feature="spread", detector="adwin", statistic=0.5)
    message = model_event_message(event)
    assert message.key == b"IBM"
    assert orjson.loads(message.value) == {"event_id": "e-1", "kind": "feature_drift", "symbol": "IBM",
                                           "ts_ns": 5, "feature": "spread", "detector": "adwin",
                                           "statistic": 0.5, "model_version": ""}


def test_write_batch_produces_without_waiting_and_the_snapshot_confirms_and_counts_rows() -> None:
    metrics = MetricsRegistry()
    producer = FakeProducer()
    partition = a_partition(producer, metrics)
    partition.write_batch([1, 2])
    partition.write_batch([3])
    assert [value for _, _, value, _ in producer.produced] == [b"1", b"2", b"3"]
    assert producer.flushes == 0 and producer.polls == 2
    assert partition.snapshot() is None
    assert producer.flushes == 1
    assert metrics.value("tickwise_sink_rows_total", sink="kafka", table="signals") == 3


def test_rows_are_counted_as_their_delivery_reports_come_back_between_snapshots() -> None:
    metrics = MetricsRegistry()
    partition = a_partition(FakeProducer(report_on_poll=True), metrics)
    partition.write_batch([1, 2, 3])
    assert metrics.value("tickwise_sink_rows_total", sink="kafka", table="signals") == 3
    partition.snapshot()
    assert metrics.value("tickwise_sink_rows_total", sink="kafka", table="signals") == 3


def test_snapshot_when_a_delivery_of_the_epoch_failed_then_raises_naming_topic_and_count() -> None:
    metrics = MetricsRegistry()
    partition = a_partition(FakeProducer(fail={b"2", b"3"}), metrics)
    partition.write_batch([1, 2])
    partition.write_batch([3, 4])
    with pytest.raises(SinkDeliveryError, match=r"2 of 4 messages to topic 'signals'") as raised:
        partition.snapshot()
    assert raised.value.failed == 2
    assert metrics.value("tickwise_sink_errors_total", sink="kafka") == 1


def test_write_batch_when_a_failure_was_reported_before_the_snapshot_then_raises_at_once() -> None:
    partition = a_partition(FakeProducer(fail={b"1"}, report_on_poll=True), MetricsRegistry())
    with pytest.raises(SinkDeliveryError, match=r"1 of 2 messages to topic 'signals'"):
        partition.write_batch([1, 2])


def test_snapshot_when_messages_remain_queued_after_flush_then_raises() -> None:
    partition = a_partition(FakeProducer(stuck=1), MetricsRegistry())
    partition.write_batch([1, 2])
    with pytest.raises(SinkDeliveryError, match="still queued"):
        partition.snapshot()


def test_snapshot_of_an_epoch_that_produced_nothing_does_not_wait_for_the_brokers() -> None:
    producer = FakeProducer(stuck=1)
    partition = a_partition(producer, MetricsRegistry())
    partition.snapshot()
    assert producer.flushes == 0


def test_each_snapshot_confirms_only_its_own_epoch() -> None:
    partition = a_partition(FakeProducer(fail={b"3"}), MetricsRegistry())
    partition.write_batch([1, 2])
    partition.snapshot()
    partition.write_batch([3])
    with pytest.raises(SinkDeliveryError, match=r"1 of 1 messages"):
        partition.snapshot()


def test_write_batch_when_local_queue_is_full_then_polls_and_retries() -> None:
    producer = FakeProducer(full_once=True)
    a_partition(producer, MetricsRegistry()).write_batch([1])
    assert producer.polls == 2  # one to make room, one to serve reports after the batch
    assert len(producer.produced) == 1


def test_kafka_key_keys_an_item_by_its_symbol() -> None:
    assert kafka_key(a_decision()) == ("IBM", a_decision())
    assert kafka_key(a_reject()) == ("_", a_reject())


def test_sink_lists_one_part_per_partition_and_refuses_zero() -> None:
    sink = KafkaOutSink(KafkaSettings("b:9092"), "signals", signal_message, partitions=3)
    assert sink.list_parts() == ["kafka-0", "kafka-1", "kafka-2"]
    with pytest.raises(ValueError, match="partitions"):
        KafkaOutSink(KafkaSettings("b:9092"), "signals", signal_message, partitions=0)


def test_close_when_a_message_is_still_queued_then_raises() -> None:
    partition = a_partition(FakeProducer(stuck=1), MetricsRegistry())
    partition.write_batch([1])
    with pytest.raises(SinkDeliveryError, match="still queued at close"):
        partition.close()


def test_close_flushes_and_closes_the_producer() -> None:
    producer = FakeProducer()
    a_partition(producer, MetricsRegistry()).close()
    assert producer.closed


def test_sink_refuses_an_empty_topic() -> None:
    with pytest.raises(ValueError, match="topic"):
        KafkaOutSink(KafkaSettings("b:9092"), "", signal_message)


class PurgingProducer(FakeProducer):
    def __init__(self, stuck: int) -> None:
        super().__init__(stuck=stuck)
        self.purged = False
        self.flush_timeouts: list[float] = []

    def purge(self) -> None:
        self.purged = True

    def flush(self, timeout: float) -> int:
        self.flush_timeouts.append(timeout)
        return super().flush(timeout)


def test_close_when_the_flow_is_failing_then_purges_without_waiting_or_raising() -> None:
    # Bytewax closes every partition while it unwinds from a failure: waiting for a broker that is down,
    # or raising, would keep the process from ending and printing the cause.
    producer = PurgingProducer(stuck=3)
    partition = a_partition(producer, MetricsRegistry())
    report_failure("ClickHouse INSERT of 5 rows into 'ticks' failed: [Errno 28] No space left on device")

    partition.close()

    assert producer.purged and producer.flush_timeouts == [0]


def test_snapshot_failure_is_logged_with_topic_and_brokers_before_it_raises(
        caplog: pytest.LogCaptureFixture) -> None:
    partition = a_partition(FakeProducer(fail={b"1"}), MetricsRegistry())
    partition.write_batch([1])
    with caplog.at_level(logging.ERROR, logger="sinks.failure"), pytest.raises(SinkDeliveryError):
        partition.snapshot()
    assert [record.getMessage() for record in caplog.records] == [
        f"{FAILURE_MARKER}kafka sink: 1 of 1 messages to topic 'signals' were not delivered (first error: "
        f"{KafkaError(KafkaError._MSG_TIMED_OUT)}) by the brokers at 127.0.0.1:9092"]
