"""Topic sets of the benchmark: a fresh uuid-prefixed set per run, produced, counted and dropped."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

PARTITIONS = 4


@dataclass(frozen=True)
class TopicSet:
    prefix: str

    @property
    def ticks(self) -> str:
        return f"{self.prefix}.ticks"

    @property
    def signals(self) -> str:
        return f"{self.prefix}.signals"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}.ticks.dlq"

    @property
    def features(self) -> str:
        """What the signals flow publishes for the history flow (``sinks.topics.split_topics``)."""
        return f"{self.ticks}.features"

    @property
    def decisions(self) -> str:
        return f"{self.ticks}.decisions"

    def env(self) -> dict[str, str]:
        return {"KAFKA_TICKS_TOPIC": self.ticks, "KAFKA_SIGNALS_TOPIC": self.signals,
                "KAFKA_DLQ_TOPIC": self.dead_letters, "KAFKA_MODEL_EVENTS_TOPIC": f"{self.prefix}.model-events",
                "TICKWISE_REDIS_KEY_PREFIX": f"{self.prefix}:features:",
                # Every tick of the 04:00-20:00 ET tape goes through the features, as in the runs
                # the published figures come from (the live default keeps only the regular session).
                "TICKWISE_SESSION": "all"}

    def names(self) -> list[str]:
        env = self.env()
        return [env[key] for key in ("KAFKA_TICKS_TOPIC", "KAFKA_SIGNALS_TOPIC", "KAFKA_DLQ_TOPIC",
                                     "KAFKA_MODEL_EVENTS_TOPIC")]


def new_topics(bootstrap: str, label: str, partitions: int = PARTITIONS) -> TopicSet:
    from sinks.kafka import KafkaSettings, ensure_topics

    topics = TopicSet(f"b{uuid.uuid4().hex[:10]}-{label}")
    ensure_topics(KafkaSettings(bootstrap=bootstrap, idempotence=False), topics.names(), partitions)
    return topics


def drop_topics(bootstrap: str, topics: TopicSet) -> None:
    """Free the broker's memory (Tansu keeps topics in RAM); best effort (the split topics may not exist)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for name in [*topics.names(), topics.features, topics.decisions]:
        try:
            admin.delete_topics([name], operation_timeout=30)[name].result(timeout=30)
        except Exception:  # noqa: BLE001 - a broker that cannot delete (or a topic never made) just stays
            pass


def message_count(bootstrap: str, topic: str, timeout_s: float = 60.0) -> int | None:
    """Messages in ``topic``, read to the end of every partition; None if it is not readable or the end
    is not reached in ``timeout_s`` (Tansu creates a topic it is asked about, so an absent one reads 0).

    Read, not the high watermark: the embedded Tansu answers ListOffsets with the last record
    batch's base offset + 1 (measured: 1,000 records produced in one batch, offsets 0-999 on
    consume, high watermark 1), so watermarks undercount any batched topic."""
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    from dataflows.sources import SourceError, list_partitions

    try:
        partitions = list_partitions(bootstrap, topic)
    except SourceError:
        return None
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-count-{topic}",
                         "enable.auto.commit": False, "enable.partition.eof": True})
    consumer.assign([TopicPartition(topic, partition, 0) for partition in partitions])
    count, at_end = 0, set()
    deadline = time.monotonic() + timeout_s
    try:
        while len(at_end) < len(partitions) and time.monotonic() < deadline:
            for message in consumer.consume(5000, 0.5):
                error = message.error()
                if error is None:
                    count += 1
                elif error.code() == KafkaError._PARTITION_EOF:
                    at_end.add(message.partition())
    finally:
        consumer.close()
    return count if len(at_end) == len(partitions) else None


def produce(bootstrap: str, topics: TopicSet, messages: list[tuple[bytes, bytes]]) -> dict[str, float]:
    from dataflows.produce import produce_messages

    report_ = produce_messages(bootstrap, topics.ticks, messages)
    return {"messages": report_.messages, "elapsed_s": round(report_.elapsed_s, 3),
            "msgs_per_s": round(report_.messages_per_s, 1)}
