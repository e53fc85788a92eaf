"""Produce tick messages to Kafka with delivery reports (``tickwise produce``).

With ``--events`` (and ``tickwise train --events``), ``plan_event_ticks`` turns the events of the alternative-data files into
``EventTick`` messages for the symbols being produced (a market's event to every one of them, a
symbol's to that symbol) and ``merge_in_event_time`` merges them into the ticks, so each symbol's
partition carries its events and ticks in event-time order.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from confluent_kafka import KafkaException, Producer

from operators.events import EventMessage, encode_event_tick, market_fan_out

if TYPE_CHECKING:
    import pandas as pd

#: A message with the event time it is merged on: ``(ts_ns, key, value)``.
Timed = tuple[int, bytes, bytes]


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


@dataclass(frozen=True)
class EventPlan:
    """The event messages of a produce run and what was left out.

    ``messages``: ``(delivery ts_ns, key, value)`` in delivery order; ``events``: the events that
    reach at least one symbol; ``after_ticks``: events public after the last tick (nothing would
    read them); ``other_symbols``: events about symbols that have no ticks in the run.
    """

    messages: list[Timed] = field(default_factory=list)
    events: int = 0
    after_ticks: int = 0
    other_symbols: int = 0
    symbols: int = 0  # the symbols with ticks

    def describe(self, read: int) -> str:
        """One line: how many of the ``read`` events reach the symbols, and what was left out."""
        return (f"events: {self.events:,} of {read:,} reach the {self.symbols} symbol(s) as {len(self.messages):,} "
                f"messages; left out: "
                f"{self.after_ticks:,} public after the last tick, {self.other_symbols:,} about symbols without ticks")


def plan_event_ticks(events: Iterable[EventMessage], symbols: Collection[str], markets: tuple[str, ...],
                     first_ns: int, last_ns: int) -> EventPlan:
    """The ``EventTick`` messages of ``events`` for ``symbols``, whose ticks span ``[first_ns, last_ns]``.

    An event is delivered at its publication time, or at ``first_ns`` when it was public before the
    first tick (the history known when the run starts: ``operators.events.wire``); a market's event
    goes to every symbol (``market_fan_out``), in symbol order.

    >>> rate = EventMessage("te", "rate_decision", "US", "1", 5, 5, 3, actual=0.25, forecast=0.25)
    >>> plan = plan_event_ticks([rate], ["SPY", "IBM"], ("US",), 10, 20)
    >>> [(ts_ns, key) for ts_ns, key, _ in plan.messages], plan.events
    ([(10, b'IBM'), (10, b'SPY')], 1)
    """
    ordered = sorted(symbols)
    known = set(ordered)
    messages: list[Timed] = []
    count = after = other = 0
    for event in sorted(events, key=lambda event: (event.public_ts_ns, event.event_id)):
        if event.public_ts_ns > last_ns:
            after += 1
            continue
        targets = [(key, item) for key, item in market_fan_out(event, markets, ordered) if key in known]
        if not targets:
            other += 1
            continue
        count += 1
        ts_ns = max(event.public_ts_ns, first_ns)
        messages.extend((ts_ns, *encode_event_tick(key, ts_ns, item)) for key, item in targets)
    return EventPlan(messages, count, after, other, len(ordered))


def ticks_with_events(frame: pd.DataFrame, events: Iterable[EventMessage], markets: tuple[str, ...]
                      ) -> tuple[Iterator[tuple[bytes, bytes]], EventPlan]:
    """The ticks of ``frame`` (time order) as ``(key, value)`` with the events that reach their symbols
    merged in event time (``plan_event_ticks``), and the plan; ``produce --events`` and
    ``train --events`` send or backfill exactly these messages."""
    from dataflows.tickfiles import encode_ticks

    stamps = frame["ts_ns"].to_numpy()
    if not len(stamps):
        return encode_ticks(frame), EventPlan()
    plan = plan_event_ticks(events, frame["symbol"].unique().tolist(), markets, int(stamps[0]), int(stamps[-1]))
    ticks = ((int(ts_ns), key, value) for ts_ns, (key, value) in zip(stamps, encode_ticks(frame)))
    return merge_in_event_time(ticks, plan.messages), plan


def merge_in_event_time(ticks: Iterable[Timed], events: Sequence[Timed]) -> Iterator[tuple[bytes, bytes]]:
    """``(key, value)`` of ``ticks`` and ``events`` (each in time order) merged on time, an event before the
    ticks of its instant (it is known when they happen).

    >>> list(merge_in_event_time([(1, b"A", b"t1"), (2, b"A", b"t2")], [(2, b"A", b"e")]))
    [(b'A', b't1'), (b'A', b'e'), (b'A', b't2')]
    """
    for _, key, value in heapq.merge(events, ticks, key=_time):
        yield key, value


def _time(message: Timed) -> int:
    return message[0]
