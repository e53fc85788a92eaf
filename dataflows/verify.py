"""``tickwise verify``: count duplicate rows and find lost ticks in ClickHouse.

Duplicates: Bytewax recovery gives at-least-once output, so after a resume a table may hold
the same id more than once; ReplacingMergeTree collapses them at merge time and every read
uses ``FINAL``. Duplicates are therefore expected and reported, not failed on. An id whose
rows disagree on the sort key would not collapse: that is reported as a conflict and fails.

Gaps: every offset of the ticks topic ends either as a valid tick (``ticks``) or as a reject
(``rejects``). So per source partition the offsets found in the two tables together must be
contiguous from the first to the last; a missing range means ticks were lost. With expected
ends (``--expect-offsets 0:1200,1:980``), a partition must also reach its end (and start at 0,
or at S for ``P:S-N``).

>>> missing_ranges([0, 1, 2, 5, 6, 9], first=0, end=11)
[(3, 5), (7, 9), (10, 11)]
>>> parse_expected("0:100, 1:20-50")
{0: (0, 100), 1: (20, 50)}
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np
import orjson
from clickhouse_connect.driver.client import Client

from sinks.clickhouse import TABLE_DDL, TABLES



def id_column(table: str) -> str:
    """The deterministic id of a table's rows: the last column of its ``ORDER BY``.

    >>> id_column("predictions")
    'prediction_id'
    """
    found = re.search(r"ORDER BY \(([^)]*)\)", TABLE_DDL[table])
    if found is None:
        raise ValueError(f"table {table!r} has no ORDER BY (...) ending in an id")
    return found.group(1).split(",")[-1].strip()


MAX_RANGES_SHOWN = 50


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
    partition: int
    first: int | None
    last: int | None
    offsets: int
    missing: int
    missing_ranges: list[tuple[int, int]] = field(default_factory=list)  # half-open [start, end)


@dataclass(frozen=True)
class VerifyReport:
    topic: str
    tables: list[TableDuplicates]
    partitions: list[PartitionCoverage]

    @property
    def missing_offsets(self) -> int:
        return sum(partition.missing for partition in self.partitions)

    @property
    def duplicate_rows(self) -> int:
        return sum(table.duplicate_rows for table in self.tables)

    @property
    def id_conflicts(self) -> int:
        return sum(table.id_conflicts for table in self.tables)

    @property
    def ok(self) -> bool:
        return self.missing_offsets == 0 and self.id_conflicts == 0

    def json_line(self) -> str:
        return orjson.dumps({
            "ok": self.ok, "topic": self.topic, "missing_offsets": self.missing_offsets,
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


def partition_coverage(client: Client, topic: str,
                       expected: dict[int, tuple[int, int]] | None = None) -> list[PartitionCoverage]:
    """Per partition of ``topic``: the offsets seen in ``ticks`` and ``rejects`` and what is missing."""
    expected = expected or {}
    seen_offsets = (f"SELECT partition, offset FROM ticks WHERE topic = {_topic_literal(topic)} "
                    f"UNION ALL SELECT partition, offset FROM rejects WHERE topic = {_topic_literal(topic)}")
    summary = {int(row[0]): (int(row[1]), int(row[2]), int(row[3])) for row in client.query(
        f"SELECT partition, min(offset), max(offset), uniqExact(offset) FROM ({seen_offsets}) "
        "GROUP BY partition ORDER BY partition").result_rows}
    coverage = []
    for partition in sorted(set(summary) | set(expected)):
        first, last, count = summary.get(partition, (None, None, 0))
        if partition in expected:
            start, end = expected[partition]
        else:
            start, end = first, (last + 1 if last is not None else None)
        if first is None or last is None:
            ranges = [(start, end)] if start is not None and end is not None and end > start else []
        elif count == last - first + 1 and start >= first and end <= last + 1:
            ranges = []  # contiguous and covering what is expected: no need to read the offsets
        else:
            offsets = np.array([row[0] for row in client.query(
                f"SELECT DISTINCT offset FROM ({seen_offsets}) WHERE partition = {partition} "
                "ORDER BY offset").result_rows], dtype=np.int64)
            ranges = missing_ranges(offsets, start, end)
        missing = sum(stop - begin for begin, stop in ranges)
        coverage.append(PartitionCoverage(partition, first, last, count, missing, ranges[:MAX_RANGES_SHOWN]))
    return coverage


def verify(client: Client, topic: str, expected: dict[int, tuple[int, int]] | None = None) -> VerifyReport:
    return VerifyReport(topic, table_duplicates(client), partition_coverage(client, topic, expected))
