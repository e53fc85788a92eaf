"""The Bytewax sink: collects rows per table across batches and inserts them through ``ClickHouseWriter``."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from bytewax.outputs import FixedPartitionedSink, StatefulSinkPartition

from sinks.clickhouse.settings import ClickHouseSettings
from sinks.clickhouse.tables import Record, group_by_table
from sinks.clickhouse.writer import SINK_NAME, ClickHouseWriteError, ClickHouseWriter
from sinks.failure import describe_cause, flow_failing, partition_closed, partition_opened, report_failure
from sinks.metrics import MetricsRegistry, default_metrics

logger = logging.getLogger(__name__)


class _ClickHousePartition(StatefulSinkPartition[Record, None]):
    """Collects rows per table across batches (see ``ClickHouseSettings``): a chDB INSERT costs
    milliseconds however small it is, and most batches carry a few rows of most tables.

    A table is inserted as soon as it holds ``batch_rows`` rows; otherwise at most ONE table
    per Bytewax batch, the one waiting longest once it has waited ``flush_interval_s``, so the
    history's cost is spread over the flow's cycles instead of stalling one of them (a
    latency spike for every tick behind it); everything at each epoch's snapshot and at close.
    """

    def __init__(self, writer: ClickHouseWriter, clock: Callable[[], float] = time.monotonic) -> None:
        self._writer = writer
        self._clock = clock
        self._pending: dict[str, list[Any]] = {}
        self._since: dict[str, float] = {}

    @property
    def pending_rows(self) -> int:
        return sum(len(rows) for rows in self._pending.values())

    def write_batch(self, values: list[Record]) -> None:
        pending, since = self._pending, self._since
        now = self._clock()
        for table, rows in group_by_table(values).items():
            pending.setdefault(table, []).extend(rows)
            since.setdefault(table, now)
        if not pending:
            return
        settings = self._writer.settings
        due = [table for table, rows in pending.items() if len(rows) >= settings.batch_rows]
        if not due:
            waiting = min(since, key=since.__getitem__)
            if now - since[waiting] >= settings.flush_interval_s:
                due = [waiting]
        if due:
            self._write(due)

    def _write(self, tables: list[str]) -> None:
        # On failure this reports the cause and raises with the rows still collected (the flow
        # resumes from its last snapshot and replays them).
        try:
            self._writer.write_groups({table: self._pending[table] for table in tables})
        except Exception as exc:
            report_failure(str(exc) if isinstance(exc, ClickHouseWriteError) else
                           f"ClickHouse write at {self._writer.settings.redacted_url()} failed: {describe_cause(exc)}")
            raise
        for table in tables:
            del self._pending[table]
            del self._since[table]

    def flush(self) -> None:
        """Insert everything collected."""
        if self._pending:
            self._write(list(self._pending))

    def snapshot(self) -> None:
        # Bytewax snapshots at the end of every epoch: rows of this epoch are written first.
        self.flush()
        return None

    def close(self) -> None:
        """Insert what is left and close the client; once the flow is failing (this sink or another
        raised, and Bytewax closes every partition while it unwinds) let go of the client without
        writing or raising: an error here would abort the process before the cause is printed."""
        try:
            if flow_failing():
                if self._pending:
                    logger.warning("clickhouse sink: flow stopping after a failure; %d collected rows are left to "
                                   "the replay from the last snapshot", self.pending_rows)
                self._writer.abandon()
                return
            try:
                self.flush()
            finally:
                if flow_failing():
                    self._writer.abandon()
                else:
                    self._writer.close()
        finally:
            partition_closed()


class ClickHouseSink(FixedPartitionedSink[Record, None]):
    """Write keyed ``(key, record)`` items to ClickHouse, collected per table by each partition.

    With chDB there is one partition, so every row of a multi-process cluster is routed to
    the single worker that opens the data directory; with a server, ``partitions`` writers.
    Rows carry deterministic ids, so replays after a resume collapse (snapshots are None).
    """

    def __init__(self, settings: ClickHouseSettings, metrics: MetricsRegistry | None = None) -> None:
        self.settings = settings
        self.metrics = metrics

    def list_parts(self) -> list[str]:
        return [f"clickhouse-{index}" for index in range(self.settings.partition_count)]

    def part_fn(self, item_key: str) -> int:
        if self.settings.partition_count == 1:
            return 0
        return int.from_bytes(hashlib.blake2b(item_key.encode(), digest_size=4).digest(), "big")

    def build_part(self, step_id: str, for_part: str, resume_state: None) -> _ClickHousePartition:
        (self.metrics or default_metrics()).declare_sink(SINK_NAME)
        writer = ClickHouseWriter(self.settings, self.metrics)
        try:
            writer.connect()
            writer.ensure_schema()
        except Exception as exc:
            report_failure(str(exc) if isinstance(exc, ClickHouseWriteError) else
                           f"ClickHouse at {self.settings.redacted_url()} failed: {describe_cause(exc)}")
            writer.abandon()
            raise
        logger.info("clickhouse sink %s partition %s writing to %s", step_id, for_part,
                    self.settings.redacted_url())
        partition_opened()
        return _ClickHousePartition(writer)
