"""Produce tick messages to Kafka with delivery reports (``tickwise produce``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from confluent_kafka import KafkaException, Producer


class ProduceError(RuntimeError):
    """Some messages were not delivered."""


@dataclass(frozen=True)
class ProduceReport:
    messages: int
    elapsed_s: float

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.elapsed_s if self.elapsed_s > 0 else 0.0


def produce_messages(bootstrap: str, topic: str, messages: Iterable[tuple[bytes | None, bytes]],
                     rate_per_s: float | None = None, extra: Mapping[str, str] | None = None,
                     on_progress: Callable[[int], None] | None = None) -> ProduceReport:
    """Send every ``(key, value)`` to ``topic``; raise unless all were acknowledged."""
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "linger.ms": 20,
        "batch.num.messages": 10_000,
        "queue.buffering.max.messages": 500_000,
        "acks": "all",
        "message.timeout.ms": 60_000,
        **(extra or {}),
    })
    failures: list[str] = []

    def on_delivery(error: object, _message: object) -> None:
        if error is not None:
            failures.append(str(error))

    started = time.monotonic()
    sent = 0
    try:
        for key, value in messages:
            while True:
                try:
                    producer.produce(topic, value=value, key=key, on_delivery=on_delivery)
                    break
                except BufferError:
                    producer.poll(0.05)
                except KafkaException as error:
                    raise ProduceError(f"producing to {topic} on {bootstrap} failed: {error}") from None
            sent += 1
            if sent % 10_000 == 0:
                producer.poll(0)
                if on_progress is not None:
                    on_progress(sent)
                if failures:
                    break
            if rate_per_s:
                ahead = sent / rate_per_s - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
    finally:  # also when reading the messages fails or the user interrupts: what was queued is delivered
        remaining = producer.flush(60)
    del producer  # destroy the client now, not when the broker may already be gone
    elapsed = time.monotonic() - started
    if on_progress is not None:
        on_progress(sent)
    if failures or remaining:
        first = failures[0] if failures else "timed out"
        raise ProduceError(
            f"{len(failures) + remaining} of {sent} messages to {topic} on {bootstrap} were not delivered ({first})"
        )
    return ProduceReport(sent, elapsed)
