"""Kafka tick source: one confluent-kafka consumer per partition, positions in recovery state.

Why not Bytewax's stock ``KafkaSource``: we need the end of a partition decided by the
fetch itself (Tansu's metadata high-watermark lags behind the real end), explicit
start/stop offsets for replays, ``auto.offset.reset=error`` on resume so an out-of-range
offset fails loudly instead of jumping to the end, and every fetch error raised rather
than snapshotted past.

With a ``group_id`` the source also commits its positions to that consumer group, so lag
monitors (``kafka-consumer-groups``, lag exporters) see how far the flow is. A commit never runs
ahead of the state: each snapshot commits the position of the snapshot before it, which Bytewax
has stored by then (an epoch starts reading only after the previous epoch's outputs and
snapshots are written). The final positions are committed from the recovery store after the run
(``commit_positions``). Resumes read the recovery store, never the group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
import logging
from dataclasses import dataclass, field

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from operators.messages import SourceRecord

logger = logging.getLogger(__name__)

# (topic, partition, messages behind the high watermark): called once per batch, for metrics.
LagCallback = Callable[[str, int, int], None]


class SourceError(RuntimeError):
    """The tick source cannot read its topic."""


_SECRET_OPTION_WORDS = ("password", "secret", "key")


@dataclass(frozen=True, repr=False)
class KafkaSourceSettings:
    """Where and what to read; ``extra`` passes librdkafka options through (secrets included: ``repr`` hides them)."""

    bootstrap: str
    topic: str
    batch_size: int = 5000
    poll_timeout_s: float = 0.001
    fetch_wait_ms: int = 10
    until_eof: bool = False
    start_offsets: Mapping[int, int] = field(default_factory=dict)
    end_offsets: Mapping[int, int] = field(default_factory=dict)
    extra: Mapping[str, str] = field(default_factory=dict)
    group_id: str | None = None  # commit durable positions to this consumer group (None: never commit)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.poll_timeout_s >= 0 or self.fetch_wait_ms < 0:
            raise ValueError(f"poll_timeout_s and fetch_wait_ms must be >= 0, got {self.poll_timeout_s} "
                             f"and {self.fetch_wait_ms}")
        for partition, offset in {**self.start_offsets, **self.end_offsets}.items():
            if partition < 0 or offset < 0:
                raise ValueError(f"offsets must be partition:offset with both >= 0, got {partition}:{offset}")

    def __repr__(self) -> str:
        extra = {name: "***" if any(word in name.lower() for word in _SECRET_OPTION_WORDS) else value
                 for name, value in self.extra.items()}
        return (f"KafkaSourceSettings(bootstrap={self.bootstrap!r}, topic={self.topic!r}, "
                f"batch_size={self.batch_size}, poll_timeout_s={self.poll_timeout_s}, "
                f"fetch_wait_ms={self.fetch_wait_ms}, "
                f"until_eof={self.until_eof}, start_offsets={dict(self.start_offsets)}, "
                f"end_offsets={dict(self.end_offsets)}, group_id={self.group_id!r}, extra={extra})")


def list_partitions(bootstrap: str, topic: str, extra: Mapping[str, str] | None = None) -> list[int]:
    admin = AdminClient({"bootstrap.servers": bootstrap, **(extra or {})})
    metadata = admin.list_topics(topic, timeout=10)
    found = metadata.topics.get(topic)
    if found is None or found.error is not None or not found.partitions:
        reason = found.error if found is not None and found.error is not None else "no partitions"
        raise SourceError(f"topic {topic!r} is not readable on {bootstrap} ({reason})")
    return sorted(found.partitions)


class _KafkaPartition(StatefulSourcePartition[SourceRecord, int]):
    def __init__(self, settings: KafkaSourceSettings, partition: int, resume_offset: int | None,
                 on_lag: LagCallback | None = None) -> None:
        self._settings = settings
        self._partition = partition
        self._on_lag = on_lag
        start = settings.start_offsets.get(partition, OFFSET_BEGINNING)
        resuming = resume_offset is not None
        self._next_offset = resume_offset if resuming else start
        self._end = settings.end_offsets.get(partition)
        # The previous snapshot's position (durable once the next snapshot is taken) and the last committed one.
        self._previous_snapshot: int | None = None
        self._committed: int | None = None
        config = {
            "bootstrap.servers": settings.bootstrap,
            "group.id": settings.group_id or f"tickwise-source-{settings.topic}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
            # A resume offset out of range must fail, never silently jump to the end.
            "auto.offset.reset": "error" if resuming else "earliest",
            # Latency: a batch is what is queued within poll_timeout_s, never "wait for batch_size".
            "fetch.wait.max.ms": settings.fetch_wait_ms,
            "fetch.min.bytes": 1,
            "on_commit": _log_failed_commit,
            **settings.extra,
        }
        self._consumer = Consumer(config)
        self._consumer.assign([TopicPartition(settings.topic, partition, self._next_offset)])
        # An end offset of 0 means nothing to read, even when starting "from the beginning" (-2).
        self._done = self._end is not None and (self._end == 0 or 0 <= self._next_offset >= self._end)

    def next_batch(self) -> Iterable[SourceRecord]:
        if self._done:
            raise StopIteration()
        messages = self._consumer.consume(self._settings.batch_size, self._settings.poll_timeout_s)
        batch: list[SourceRecord] = []
        topic = self._settings.topic
        end = self._end
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    # The fetch reached the real end (broker metadata may lag; this does not).
                    if self._settings.until_eof:
                        self._done = True
                    continue
                raise SourceError(f"reading {topic}[{self._partition}] failed: {error}{_resume_advice(error)}")
            offset = message.offset()
            if end is not None and offset >= end:
                self._done = True
                break
            batch.append(SourceRecord(topic, self._partition, offset, message.key(), message.value()))
            self._next_offset = offset + 1
        if end is not None and self._next_offset >= end:
            self._done = True
        if self._on_lag is not None:
            self._report_lag()
        return batch

    def _report_lag(self) -> None:
        # For the lag metric only (never to decide the end): the high watermark cached from the
        # last fetch response, no broker round trip; -1001 while unknown.
        _, high = self._consumer.get_watermark_offsets(TopicPartition(self._settings.topic, self._partition),
                                                       cached=True)
        if high >= 0 and self._next_offset >= 0:
            self._on_lag(self._settings.topic, self._partition, max(0, high - self._next_offset))

    def snapshot(self) -> int:
        # Bytewax calls this only once every output and snapshot of the previous epoch is written,
        # so the previous snapshot's position is durable: commit that one, never the current one.
        previous = self._previous_snapshot
        if self._settings.group_id is not None and previous is not None and previous >= 0 \
                and previous != self._committed:
            self._consumer.commit(offsets=[TopicPartition(self._settings.topic, self._partition, previous)],
                                  asynchronous=True)
            self._committed = previous
        self._previous_snapshot = self._next_offset
        return self._next_offset

    def close(self) -> None:
        self._consumer.close()


class KafkaTickSource(FixedPartitionedSource[SourceRecord, int]):
    """Reads raw tick messages; with ``until_eof`` each partition ends at its real end.

    A partition ends at its end offset (exclusive) or, with ``until_eof``, when the fetch
    itself reports the end of the partition, whichever comes first. Broker metadata
    (high-watermarks from ``list_topics`` / ``get_watermark_offsets``) is never consulted:
    Tansu's lags behind the real end.
    """

    def __init__(self, settings: KafkaSourceSettings, on_lag: LagCallback | None = None) -> None:
        self._settings = settings
        self._on_lag = on_lag

    def list_parts(self) -> list[str]:
        return [str(partition) for partition in list_partitions(self._settings.bootstrap, self._settings.topic,
                                                                 self._settings.extra)]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _KafkaPartition:
        return _KafkaPartition(self._settings, int(for_part), resume_state, self._on_lag)


def _log_failed_commit(error: KafkaError | None, partitions: list[TopicPartition]) -> None:
    """Commits are for monitoring only: a failed one is logged, and the next snapshot commits again."""
    if error is not None:
        logger.warning("committing consumer group offsets failed: %s", error)


def _resume_advice(error: KafkaError) -> str:
    if error.code() not in (KafkaError.OFFSET_OUT_OF_RANGE, KafkaError._AUTO_OFFSET_RESET):
        return ""
    return (" (the recovery directory resumes at an offset this topic does not hold: the topic was "
            "recreated or the embedded broker restarted; start over with `tickwise run --fresh`)")


def commit_positions(bootstrap: str, topic: str, group_id: str, positions: Mapping[int, int],
                     extra: Mapping[str, str] | None = None) -> None:
    """Commit ``positions`` (partition -> next offset to read) for ``group_id``; ``SourceError`` on failure."""
    if not positions:
        return
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False,
                         **(extra or {})})
    try:
        committed = consumer.commit(offsets=[TopicPartition(topic, partition, offset)
                                             for partition, offset in sorted(positions.items())],
                                    asynchronous=False)
    except KafkaException as error:
        raise SourceError(f"committing the offsets of consumer group {group_id!r} on {topic!r} failed: "
                          f"{error.args[0]}") from None
    finally:
        consumer.close()
    failed = [part for part in committed or [] if part.error is not None]
    if failed:
        raise SourceError(f"committing the offsets of consumer group {group_id!r} on {topic!r} failed: "
                          f"partition {failed[0].partition}: {failed[0].error}")


def parse_offsets(spec: str) -> dict[int, int]:
    """``"0:100,1:250"`` -> ``{0: 100, 1: 250}`` with a clear error for anything else.

    >>> parse_offsets("0:100, 1:250")
    {0: 100, 1: 250}
    """
    offsets: dict[int, int] = {}
    for part in filter(None, (piece.strip() for piece in spec.split(","))):
        partition, sep, offset = part.partition(":")
        if not sep or not partition.isdigit() or not offset.isdigit():
            raise ValueError(f"expected PARTITION:OFFSET pairs such as 0:100,1:250, got {part!r}")
        offsets[int(partition)] = int(offset)
    return offsets
