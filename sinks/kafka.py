"""A Kafka producer sink that never drops a message silently, and its serializers.

Bytewax's stock ``KafkaSink`` produces without a delivery callback and ignores what
``flush()`` leaves in the queue. ``KafkaOutSink`` registers a delivery callback on every
``produce`` and confirms delivery at each epoch's snapshot: a batch is only handed to the
producer (which sends it within ``linger_ms``) and the delivery reports that came back are
served without blocking; at the end of the epoch, before Bytewax writes the recovery snapshot
that moves the input past it, the partition flushes and raises ``SinkDeliveryError`` (naming
the topic and the count) if any message of the epoch failed or is still queued, so the flow
fails and resumes from its last snapshot instead of losing signals. A failure reported before
the snapshot raises at the next batch already. Waiting for the brokers once per epoch instead
of once per batch keeps their round trip off the path from a tick to its signal.

The sink is partitioned (Bytewax calls ``snapshot`` only on a ``FixedPartitionedSink``'s
partitions), so its items are ``(key, item)`` pairs: key a stream with ``kafka_key``
(``op.map("key_signals", accepted, kafka_key)``). Bytewax routes each key to one of the
sink's ``partitions`` producers (one per partition, spread over the workers).

Serializers map one item to a ``KafkaMessage(key, value, headers)``:

>>> from operators.messages import Reject
>>> message = dead_letter_message(Reject(
...     reason="invalid_json", detail="decode: expected JSON, got b'{'", stage="decode",
...     topic="ticks", partition=3, offset=41, raw=b"{"))
>>> message.key is None, message.value, dict(message.headers)["tickwise.source.offset"]
(True, b'{', b'41')
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, TypeVar

import orjson
from bytewax.outputs import FixedPartitionedSink, StatefulSinkPartition
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from operators.messages import Decision, DriftEvent, Reject
from sinks.failure import flow_failing, partition_closed, partition_opened, report_failure
from sinks.metrics import MetricsRegistry, default_metrics

logger = logging.getLogger(__name__)

X = TypeVar("X")

REDACTED = "***"
_SECRET_MARKERS = ("password", "secret", "sasl.jaas.config", "sasl.oauthbearer.config", "ssl.key.pem",
                   "ssl.keystore.password", "ssl_key", "ssl.certificate.pem.key")


def _is_secret(option: str) -> bool:
    lowered = option.lower()
    return any(marker in lowered for marker in _SECRET_MARKERS)


class SinkDeliveryError(RuntimeError):
    """Some messages of a batch were not acknowledged by the broker."""

    def __init__(self, topic: str, failed: int, total: int, first_error: str | None) -> None:
        self.topic = topic
        self.failed = failed
        self.total = total
        self.first_error = first_error
        super().__init__(
            f"kafka sink: {failed} of {total} messages to topic {topic!r} were not delivered"
            + (f" (first error: {first_error})" if first_error else "")
        )


@dataclass(frozen=True, repr=False)
class KafkaSettings:
    """How to reach the brokers; ``extra`` passes librdkafka options through unchanged.

    ``idempotence`` asks for ``enable.idempotence`` (exactly-once per partition on
    producer retries); brokers without idempotent-producer support (Tansu) need it off.
    ``message_timeout_ms`` bounds how long librdkafka retries one message before
    reporting it failed; ``flush_timeout_s`` how long an epoch's snapshot (and close) waits
    for all acks.
    """

    bootstrap: str
    extra: Mapping[str, str] = field(default_factory=dict)
    idempotence: bool = True
    linger_ms: int = 5
    message_timeout_ms: int = 30_000
    flush_timeout_s: float = 60.0
    client_id: str = "tickwise"

    def __post_init__(self) -> None:
        if not self.bootstrap:
            raise ValueError("KafkaSettings.bootstrap must name at least one broker, got ''")
        if self.linger_ms < 0:
            raise ValueError(f"KafkaSettings.linger_ms must be >= 0, got {self.linger_ms}")
        if self.message_timeout_ms <= 0:
            raise ValueError(f"KafkaSettings.message_timeout_ms must be > 0, got {self.message_timeout_ms}")
        if self.flush_timeout_s <= 0:
            raise ValueError(f"KafkaSettings.flush_timeout_s must be > 0, got {self.flush_timeout_s}")

    def client_config(self) -> dict[str, Any]:
        """Options shared by producers and admin clients (bootstrap + ``extra``)."""
        return {"bootstrap.servers": self.bootstrap, "client.id": self.client_id, **self.extra}

    def producer_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "client.id": self.client_id,
            "acks": "all",
            "enable.idempotence": self.idempotence,
            "linger.ms": self.linger_ms,
            "message.timeout.ms": self.message_timeout_ms,
        }
        config.update(self.extra)
        return config

    def redacted(self) -> dict[str, Any]:
        """The producer configuration with every secret option masked, safe to log."""
        return {key: (REDACTED if _is_secret(key) else value) for key, value in self.producer_config().items()}

    def __repr__(self) -> str:
        return f"KafkaSettings({self.redacted()!r})"


class KafkaMessage(NamedTuple):
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


Serializer = Callable[[X], KafkaMessage]


def signal_message(decision: Decision) -> KafkaMessage:
    """A risk decision for the ``signals`` topic: key = symbol, value = JSON of every field.

    The flow sends only accepted decisions here; the value carries ``accepted`` anyway so a
    consumer never has to guess.
    """
    value = orjson.dumps({
        "signal_id": decision.signal_id,
        "symbol": decision.symbol,
        "ts_ns": decision.ts_ns,
        "direction": decision.direction,
        "size": decision.size,
        "notional": decision.notional,
        "price": decision.price,
        "confidence": decision.confidence,
        "regime": decision.regime,
        "model_version": decision.model_version,
        "accepted": decision.accepted,
        "reason": decision.reason,
        "trading_state": decision.trading_state,
        "position_after": decision.position_after,
        "source_partition": decision.partition,
        "source_offset": decision.offset,
    })
    return KafkaMessage(decision.symbol.encode(), value, [("tickwise.signal_id", decision.signal_id.encode())])


def dead_letter_message(reject: Reject) -> KafkaMessage:
    """A rejected message for ``ticks.dlq``: the original bytes unchanged, the why in headers."""
    headers = [
        ("tickwise.reason", reject.reason.encode()),
        ("tickwise.detail", reject.detail.encode()),
        ("tickwise.stage", reject.stage.encode()),
        ("tickwise.source.topic", reject.topic.encode()),
        ("tickwise.source.partition", str(reject.partition).encode()),
        ("tickwise.source.offset", str(reject.offset).encode()),
    ]
    key = reject.symbol.encode() if reject.symbol else None
    return KafkaMessage(key, reject.raw, headers)


def model_event_message(event: DriftEvent) -> KafkaMessage:
    """A monitor event for ``model-events`` (drift, ``retrain``, ``model_review`` ...): key = symbol,
    value = JSON of the event; ``tickwise retrain --on-event`` reads the ``retrain`` ones."""
    value = orjson.dumps({
        "event_id": event.event_id,
        "kind": event.kind,
        "symbol": event.symbol,
        "ts_ns": event.ts_ns,
        "feature": event.feature,
        "detector": event.detector,
        "statistic": event.statistic,
        "model_version": event.model_version,
    })
    return KafkaMessage(event.symbol.encode(), value, [("tickwise.event_id", event.event_id.encode())])


def kafka_key(item: X) -> tuple[str, X]:
    """``(symbol, item)``, the pair a ``KafkaOutSink`` takes (``"_"`` for an item without a symbol)."""
    return (getattr(item, "symbol", None) or "_", item)


class _KafkaOutPartition(StatefulSinkPartition[X, None], Generic[X]):
    """One producer of ``sink`` (its settings, topic, serializer and metric name): produces each batch
    without waiting, confirms every message of the epoch at its snapshot."""

    def __init__(self, sink: KafkaOutSink[X], metrics: MetricsRegistry, producer: Producer) -> None:
        self._sink = sink
        self._topic = sink.topic
        self._metrics = metrics
        self._producer = producer
        self._errors: list[KafkaError] = []
        self._produced = 0  # messages handed to the producer since the last confirmed snapshot
        self._delivered = 0  # of those, acknowledged by the brokers
        self._counted = 0  # of those, already in tickwise_sink_rows_total

    def _on_delivery(self, err: KafkaError | None, _msg: object) -> None:
        if err is None:
            self._delivered += 1
        else:
            self._errors.append(err)

    def _produce(self, message: KafkaMessage) -> None:
        while True:
            try:
                self._producer.produce(self._topic, message.value, message.key,
                                       headers=message.headers, on_delivery=self._on_delivery)
                return
            except BufferError:
                # Local queue full: serve delivery reports until there is room again.
                self._producer.poll(0.1)

    def write_batch(self, items: list[X]) -> None:
        if not items:
            return
        serializer = self._sink.serializer
        try:
            for item in items:
                self._produce(serializer(item))
                self._produced += 1
        except KafkaException as exc:
            self._fail(self._produced - self._delivered, str(exc), exc)
        self._producer.poll(0)  # serve the delivery reports that came back, without waiting
        self._count_delivered()
        if self._errors:
            self._fail(len(self._errors), str(self._errors[0]), None)

    def snapshot(self) -> None:
        # Bytewax snapshots at the end of every epoch, before the recovery snapshot moves the input past it.
        self.confirm()
        return None

    def confirm(self) -> None:
        """Wait for every message produced since the last confirmation; raise unless all were acknowledged."""
        if not self._produced:
            return
        queued = self._producer.flush(self._sink.settings.flush_timeout_s)
        self._count_delivered()
        failed = len(self._errors) + queued
        if failed:
            first = str(self._errors[0]) if self._errors else f"{queued} still queued after flush"
            self._fail(failed, first, None)
        self._produced = self._delivered = self._counted = 0

    def _count_delivered(self) -> None:
        self._metrics.count_sink_rows(self._sink.sink_name, self._topic, self._delivered - self._counted)
        self._counted = self._delivered

    def _fail(self, failed: int, first_error: str, cause: BaseException | None) -> None:
        self._metrics.count_sink_error(self._sink.sink_name)
        self._count_delivered()
        error = SinkDeliveryError(self._topic, failed, self._produced, first_error)
        report_failure(f"{error} by the brokers at {self._sink.settings.bootstrap}")
        raise error from cause

    def close(self) -> None:
        if flow_failing():
            # The flow is stopping after a failure (Bytewax closes every partition while it unwinds):
            # what is still queued is replayed from the last snapshot; waiting for a broker that may be
            # down, or raising here, would only keep the cause from being printed.
            self._producer.purge()
            self._producer.flush(0)
            partition_closed()
            return
        try:
            queued = self._producer.flush(self._sink.settings.flush_timeout_s)
            self._count_delivered()
            if not queued:
                self._producer.close()
            if queued or self._errors:
                self._metrics.count_sink_error(self._sink.sink_name)
                failed = queued + len(self._errors)
                error = SinkDeliveryError(self._topic, failed, max(failed, self._produced),
                                          str(self._errors[0]) if self._errors else f"{queued} still queued at close")
                report_failure(f"{error} by the brokers at {self._sink.settings.bootstrap}")
                raise error
        finally:
            partition_closed()


class KafkaOutSink(FixedPartitionedSink[X, None], Generic[X]):
    """Produce every item of a keyed stream to ``topic`` with acks=all; confirm delivery at each epoch's
    snapshot and raise unless all were acknowledged.

    Items are ``(key, item)`` (see ``kafka_key``); the key picks one of ``partitions`` producers
    (Bytewax spreads them over the workers), the message key comes from the serializer.
    ``serializer`` maps an item to ``KafkaMessage(key, value, headers)``; use ``signal_message``,
    ``dead_letter_message`` or ``model_event_message``, or the ``signal_sink``/``dead_letter_sink``/
    ``model_event_sink`` factories. The snapshots carry no state (None): what a resumed flow
    replays is produced again (at least once; consumers dedupe by the ids in the messages).
    """

    def __init__(self, settings: KafkaSettings, topic: str, serializer: Serializer[X],
                 metrics: MetricsRegistry | None = None, sink_name: str = "kafka", partitions: int = 1) -> None:
        if not topic:
            raise ValueError("KafkaOutSink.topic must be a topic name, got ''")
        if type(partitions) is not int or partitions < 1:
            raise ValueError(f"KafkaOutSink.partitions must be an int >= 1, got {partitions!r}")
        self.settings = settings
        self.topic = topic
        self.serializer = serializer
        self.metrics = metrics
        self.sink_name = sink_name
        self.partitions = partitions

    def list_parts(self) -> list[str]:
        return [f"kafka-{index}" for index in range(self.partitions)]

    def build_part(self, step_id: str, for_part: str, resume_state: None) -> _KafkaOutPartition[X]:
        config = self.settings.producer_config()
        config["client.id"] = f"{self.settings.client_id}-{step_id}-{for_part}"
        (self.metrics or default_metrics()).declare_sink(self.sink_name)
        logger.info("kafka sink %s partition %s -> %s with %s", step_id, for_part, self.topic,
                    self.settings.redacted())
        partition = _KafkaOutPartition(self, self.metrics or default_metrics(), Producer(config))
        partition_opened()
        return partition


def signal_sink(settings: KafkaSettings, topic: str = "signals",
                metrics: MetricsRegistry | None = None) -> KafkaOutSink[Decision]:
    return KafkaOutSink(settings, topic, signal_message, metrics, sink_name="kafka_signals")


def dead_letter_sink(settings: KafkaSettings, topic: str = "ticks.dlq",
                     metrics: MetricsRegistry | None = None) -> KafkaOutSink[Reject]:
    return KafkaOutSink(settings, topic, dead_letter_message, metrics, sink_name="kafka_dead_letters")


def model_event_sink(settings: KafkaSettings, topic: str = "model-events",
                     metrics: MetricsRegistry | None = None) -> KafkaOutSink[DriftEvent]:
    return KafkaOutSink(settings, topic, model_event_message, metrics, sink_name="kafka_model_events")


def ensure_topics(settings: KafkaSettings, names: Iterable[str], partitions: int,
                  replication_factor: int = 1, timeout_s: float = 30.0) -> list[str]:
    """Create the topics that do not exist yet; return the names that were created.

    A topic that already exists is fine (whatever its partition count); any other
    failure raises ``KafkaException``.
    """
    if partitions < 1:
        raise ValueError(f"ensure_topics: partitions must be >= 1, got {partitions}")
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    # Warnings and errors only: librdkafka's info lines (e.g. "BGQUEUE Purging 1 unserved events" when the
    # client goes) would otherwise reach the user's terminal between our one-sentence errors.
    admin = AdminClient({"log_level": 4, **settings.client_config()})
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=replication_factor) for name in wanted],
        operation_timeout=timeout_s, request_timeout=timeout_s,
    )
    created: list[str] = []
    for name, future in futures.items():
        try:
            future.result(timeout=timeout_s)
            created.append(name)
        except KafkaException as exc:
            if exc.args and exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            raise
    return created
