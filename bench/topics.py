"""Topic sets of the benchmark: a fresh uuid-prefixed set per run, produced, counted and dropped."""

from __future__ import annotations

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
                "TICKWISE_REDIS_KEY_PREFIX": f"{self.prefix}:features:"}

    def names(self) -> list[str]:
        env = self.env()
        return [env[key] for key in ("KAFKA_TICKS_TOPIC", "KAFKA_SIGNALS_TOPIC", "KAFKA_DLQ_TOPIC",
                                     "KAFKA_MODEL_EVENTS_TOPIC")]


def new_topics(bootstrap: str, label: str) -> TopicSet:
    from sinks.kafka import KafkaSettings, ensure_topics

    topics = TopicSet(f"b{uuid.uuid4().hex[:10]}-{label}")
    ensure_topics(KafkaSettings(bootstrap=bootstrap, idempotence=False), topics.names(), PARTITIONS)
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


def message_count(bootstrap: str, topic: str) -> int | None:
    """Messages in ``topic`` (sum of high watermarks; every topic here starts empty), None if it is absent."""
    from confluent_kafka import Consumer, TopicPartition

    from dataflows.sources import list_partitions

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-count", "enable.auto.commit": False})
    try:
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1]
                   for partition in list_partitions(bootstrap, topic))
    except Exception:  # noqa: BLE001 - a topic the run never created
        return None
    finally:
        consumer.close()


def produce(bootstrap: str, topics: TopicSet, messages: list[tuple[bytes, bytes]]) -> dict[str, float]:
    from dataflows.produce import produce_messages

    report_ = produce_messages(bootstrap, topics.ticks, messages)
    return {"messages": report_.messages, "elapsed_s": round(report_.elapsed_s, 3),
            "msgs_per_s": round(report_.messages_per_s, 1)}
