"""``tickwise verify``: count duplicate rows, find lost ticks and unprocessed tails in ClickHouse.

Duplicates: Bytewax recovery gives at-least-once output, so after a resume a table may hold
the same id more than once; ReplacingMergeTree collapses them at merge time and every read
uses ``FINAL``. Duplicates are therefore expected and reported, not failed on. An id whose
rows disagree on the sort key would not collapse: that is reported as a conflict and fails.

Offsets: every offset of the ticks topic ends as an admitted trade or quote (``ticks``), an
admitted depth message (``book_messages``: order-book snapshots and deltas), an admitted option
message (``option_messages``: option quotes, trades, open interest), an admitted event
(``event_messages``) or a reject (``rejects``): the tables of ``OFFSET_TABLES``. Each partition is
checked over ``[start, end)``: Kafka's own first offset and end
(read from the broker, see ``partition_ends``), or what ``--expect-offsets 0:1200,1:20-980``
states (``P:N`` is ``[0, N)``, ``P:S-N`` is ``[S, N)``). Two failures are told apart:

* a **gap**: offsets missing before the last offset found (ticks lost on the way);
* an **unprocessed tail**: the offsets after the last one found up to the end (the flow stopped
  or is behind). A topic with messages and no rows at all is reported as empty.

>>> missing_ranges([0, 1, 2, 5, 6, 9], first=0, end=11)
[(3, 5), (7, 9), (10, 11)]
>>> parse_expected("0:100, 1:20-50")
{0: (0, 100), 1: (20, 50)}
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import orjson
from clickhouse_connect.driver.client import Client
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from sinks.clickhouse import OFFSET_TABLES, TABLE_DDL, TABLES

#: How long ``partition_ends`` waits for the broker to answer, and for a fetch to make progress.
KAFKA_TIMEOUT_S = 5.0
MAX_RANGES_SHOWN = 50


class VerifyError(RuntimeError):
    """Kafka cannot tell where the topic ends; the message says why, for "Kafka at HOST:PORT: ..."."""


def id_column(table: str) -> str:
    """The deterministic id of a table's rows: the last column of its ``ORDER BY``.

    >>> id_column("predictions")
    'prediction_id'
    """
    found = re.search(r"ORDER BY \(([^)]*)\)", TABLE_DDL[table])
    if found is None:
        raise ValueError(f"table {table!r} has no ORDER BY (...) ending in an id")
    return found.group(1).split(",")[-1].strip()


@dataclass(frozen=True)
class TableDuplicates:
    table: str
    rows: int
    distinct_ids: int
    duplicate_rows: int
    final_rows: int

    @property
    def id_conflicts(self) -> int:
        """Ids that ``FINAL`` does not collapse to one row (same id, different sort key)."""
        return self.final_rows - self.distinct_ids


@dataclass(frozen=True)
class PartitionCoverage:
    """One partition: the offsets found in the ``OFFSET_TABLES`` against ``[start, end)``."""

    partition: int
    first: int | None
    last: int | None
    offsets: int
    missing: int  # offsets in gaps
    missing_ranges: list[tuple[int, int]] = field(default_factory=list)  # half-open [start, end)
    start: int | None = None
    end: int | None = None
    unprocessed: int = 0  # offsets of the tail after ``last``
    unprocessed_range: tuple[int, int] | None = None  # half-open [last + 1, end)


@dataclass(frozen=True)
class VerifyReport:
    topic: str
    tables: list[TableDuplicates]
    partitions: list[PartitionCoverage]

    @property
    def missing_offsets(self) -> int:
        return sum(partition.missing for partition in self.partitions)

    @property
    def unprocessed_offsets(self) -> int:
        return sum(partition.unprocessed for partition in self.partitions)

    @property
    def empty(self) -> bool:
        """No row of the topic at all while its partitions hold offsets."""
        return not any(part.offsets for part in self.partitions) and self.unprocessed_offsets > 0

    @property
    def duplicate_rows(self) -> int:
        return sum(table.duplicate_rows for table in self.tables)

    @property
    def id_conflicts(self) -> int:
        return sum(table.id_conflicts for table in self.tables)

    @property
    def ok(self) -> bool:
        return self.missing_offsets == 0 and self.unprocessed_offsets == 0 and self.id_conflicts == 0

    def json_line(self) -> str:
        return orjson.dumps({
            "ok": self.ok, "topic": self.topic, "empty": self.empty, "missing_offsets": self.missing_offsets,
            "unprocessed_offsets": self.unprocessed_offsets,
            "duplicate_rows": self.duplicate_rows, "id_conflicts": self.id_conflicts,
            "tables": {table.table: {**asdict(table), "id_conflicts": table.id_conflicts} for table in self.tables},
            "partitions": {str(p.partition): asdict(p) for p in self.partitions},
        }, option=orjson.OPT_SORT_KEYS).decode()


def parse_expected(spec: str) -> dict[int, tuple[int, int]]:
    """``"P:N"`` (offsets 0..N-1 expected) or ``"P:S-N"`` (S..N-1), comma-separated."""
    expected: dict[int, tuple[int, int]] = {}
    for part in filter(None, (piece.strip() for piece in spec.split(","))):
        partition, sep, bounds = part.partition(":")
        start, dash, end = bounds.rpartition("-") if "-" in bounds else ("0", "", bounds)
        if not sep or not partition.isdigit() or not start.isdigit() or not end.isdigit() or int(start) > int(end):
            raise ValueError(f"expected PARTITION:END or PARTITION:START-END pairs such as 0:1200,1:20-980, "
                             f"got {part!r}")
        expected[int(partition)] = (int(start), int(end))
    return expected


def missing_ranges(offsets: list[int] | np.ndarray, first: int, end: int) -> list[tuple[int, int]]:
    """Half-open ranges of ``[first, end)`` absent from the sorted, distinct ``offsets``."""
    seen = np.asarray(offsets, dtype=np.int64)
    seen = seen[(seen >= first) & (seen < end)]
    bounds = np.concatenate(([first - 1], seen, [end]))
    steps = np.diff(bounds)
    holes = np.nonzero(steps > 1)[0]
    return [(int(bounds[i] + 1), int(bounds[i + 1])) for i in holes]


def table_duplicates(client: Client) -> list[TableDuplicates]:
    report = []
    for table in TABLES:
        rows, distinct = client.query(f"SELECT count(), uniqExact({id_column(table)}) FROM {table}").result_rows[0]
        final = int(client.command(f"SELECT count() FROM {table} FINAL"))
        report.append(TableDuplicates(table, int(rows), int(distinct), int(rows) - int(distinct), final))
    return report


def _topic_literal(topic: str) -> str:
    return "'" + topic.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _seen_offsets(topic: str) -> str:
    return " UNION ALL ".join(f"SELECT partition, offset FROM {table} WHERE topic = {_topic_literal(topic)}"
                              for table in OFFSET_TABLES)


def seen_summary(client: Client, topic: str) -> dict[int, tuple[int, int, int]]:
    """Per partition of ``topic``: first and last offset found in the ``OFFSET_TABLES``, and how many."""
    return {int(row[0]): (int(row[1]), int(row[2]), int(row[3])) for row in client.query(
        f"SELECT partition, min(offset), max(offset), uniqExact(offset) FROM ({_seen_offsets(topic)}) "
        "GROUP BY partition ORDER BY partition").result_rows}


def partition_coverage(client: Client, topic: str, expected: dict[int, tuple[int, int]] | None = None,
                       ends: dict[int, tuple[int, int]] | None = None,
                       summary: dict[int, tuple[int, int, int]] | None = None) -> list[PartitionCoverage]:
    """Per partition of ``topic``: gaps and the unprocessed tail of ``[start, end)``, taken from
    ``expected``, else from Kafka's ``ends``, else from the first and last offsets found."""
    expected, ends = expected or {}, ends or {}
    summary = seen_summary(client, topic) if summary is None else summary
    coverage = []
    for partition in sorted(set(summary) | set(expected) | set(ends)):
        first, last, count = summary.get(partition, (None, None, 0))
        if first is None or last is None:
            start, end = expected.get(partition) or ends[partition]
            coverage.append(PartitionCoverage(partition, None, None, 0, 0, [], start, end, max(0, end - start),
                                              (start, end) if end > start else None))
            continue
        start, end = expected.get(partition) or ends.get(partition) or (first, last + 1)
        if count == last - first + 1 and start >= first:
            gaps = []  # contiguous from the start on: no need to read the offsets
        else:
            offsets = np.array([row[0] for row in client.query(
                f"SELECT DISTINCT offset FROM ({_seen_offsets(topic)}) WHERE partition = {partition} "
                "ORDER BY offset").result_rows], dtype=np.int64)
            gaps = missing_ranges(offsets, start, min(end, last + 1))
        tail_start = max(last + 1, start)
        tail = (tail_start, end) if end > tail_start else None
        coverage.append(PartitionCoverage(partition, first, last, count, sum(stop - begin for begin, stop in gaps),
                                          gaps[:MAX_RANGES_SHOWN], start, end,
                                          tail[1] - tail[0] if tail else 0, tail))
    return coverage


def topic_partitions(consumer: Consumer, topic: str, timeout_s: float = KAFKA_TIMEOUT_S) -> list[int]:
    """The partitions of ``topic``. Every topic is listed rather than this one: a broker that creates
    topics on a metadata request for them (Tansu does) would otherwise create it."""
    try:
        found = consumer.list_topics(timeout=timeout_s).topics.get(topic)
    except KafkaException as error:
        raise VerifyError(f"no answer within {timeout_s:g} s ({error.args[0].str()})") from None
    if found is None:
        raise VerifyError(f"there is no topic {topic!r}")
    return sorted(found.partitions)


def partition_ends(consumer: Consumer, topic: str, partitions: list[int], positions: dict[int, int] | None = None,
                   timeout_s: float = KAFKA_TIMEOUT_S) -> dict[int, tuple[int, int]]:
    """``(first offset Kafka holds, end)`` per partition, the end being where a fetch reports the
    partition's end (``enable.partition.eof`` on ``consumer``). A broker's high watermark can lag far
    behind (Tansu answered 1 for a partition of 5,003 messages), so the tail is read from the high
    watermark or from ``positions`` (the last offset already found), whichever is further on; a
    position past the end makes the fetch start again at the first offset (``auto.offset.reset``)."""
    positions = positions or {}
    starts: dict[int, int] = {}
    assignment = []
    try:
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout_s,
                                                       cached=False)
            starts[partition] = low
            assignment.append(TopicPartition(topic, partition, max(low, high, positions.get(partition, 0))))
        consumer.assign(assignment)
        ends: dict[int, int] = {}
        progress = time.monotonic()
        while len(ends) < len(partitions):
            if time.monotonic() - progress > timeout_s:
                waiting = sorted(set(partitions) - set(ends))
                raise VerifyError(f"partition(s) {waiting} of {topic!r} reported no end within {timeout_s:g} s")
            for message in consumer.consume(10_000, 0.5):
                progress = time.monotonic()
                error = message.error()
                if error is not None and error.code() == KafkaError._PARTITION_EOF:
                    ends.setdefault(message.partition(), message.offset())
                elif error is not None:
                    raise VerifyError(f"reading the end of {topic!r} failed: {error.str()}")
    except KafkaException as error:
        raise VerifyError(f"no answer within {timeout_s:g} s ({error.args[0].str()})") from None
    finally:
        consumer.unassign()
    return {partition: (starts[partition], ends[partition]) for partition in partitions}


def verify(client: Client, topic: str, expected: dict[int, tuple[int, int]] | None = None,
           consumer: Consumer | None = None, timeout_s: float = KAFKA_TIMEOUT_S) -> VerifyReport:
    """Duplicates per table and the offsets of ``topic``; with a ``consumer``, each partition's
    first offset and end come from Kafka (an ``expected`` partition keeps its stated range)."""
    summary = seen_summary(client, topic)
    ends = None
    if consumer is not None:
        partitions = topic_partitions(consumer, topic, timeout_s)
        ends = partition_ends(consumer, topic, partitions, {p: last for p, (_, last, _) in summary.items()}, timeout_s)
    return VerifyReport(topic, table_duplicates(client), partition_coverage(client, topic, expected, ends, summary))
