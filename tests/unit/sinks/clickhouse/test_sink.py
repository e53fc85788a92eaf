"""Unit specification of ``ClickHouseSink``: partitions, and rows collected per table across batches."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from operators.messages import TickBatch
from sinks.clickhouse import ClickHouseSettings, ClickHouseSink, ClickHouseWriteError
from sinks.clickhouse.sink import _ClickHousePartition
from sinks.failure import FAILURE_MARKER, report_failure


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def a_partition(writer_over: Any, client: Any, batch_rows: int,
                flush_interval_s: float) -> tuple[_ClickHousePartition, FakeClock]:
    clock = FakeClock()
    return _ClickHousePartition(writer_over(client, batch_rows, flush_interval_s), clock), clock


def test_chdb_sink_has_exactly_one_partition_whatever_the_setting() -> None:
    sink = ClickHouseSink(ClickHouseSettings("chdb:///x", partitions=4))
    assert sink.list_parts() == ["clickhouse-0"]
    assert sink.part_fn("IBM") == 0


def test_http_sink_has_the_configured_partitions_and_stable_routing() -> None:
    sink = ClickHouseSink(ClickHouseSettings("http://ch:8123", partitions=4))
    assert sink.list_parts() == ["clickhouse-0", "clickhouse-1", "clickhouse-2", "clickhouse-3"]
    assert sink.part_fn("IBM") == sink.part_fn("IBM")
    assert len({sink.part_fn(f"S{i}") % 4 for i in range(50)}) == 4


def test_partition_when_batches_are_small_then_collects_them_into_one_insert_per_table(
        client: Any, writer_over: Any, ticks: Any, decision: Any) -> None:
    partition, clock = a_partition(writer_over, client, batch_rows=1_000, flush_interval_s=5.0)
    for batch in range(4):
        partition.write_batch([TickBatch("IBM", ticks(10, first_offset=10 * batch)), decision(f"s{batch}", True)])
        clock.now += 1.0
    assert client.inserts == [] and partition.pending_rows == 4 * (10 + 2)

    partition.snapshot()  # the end of an epoch writes everything first

    assert sorted((table, len(data[0])) for table, data, _ in client.inserts) == [
        ("risk_decisions", 4), ("signals", 4), ("ticks", 40)]
    assert partition.pending_rows == 0


def test_partition_when_a_table_reaches_batch_rows_then_inserts_that_table_at_once(
        client: Any, writer_over: Any, ticks: Any, decision: Any) -> None:
    partition, _ = a_partition(writer_over, client, batch_rows=25, flush_interval_s=60.0)
    partition.write_batch([TickBatch("IBM", ticks(30)), decision("s1", False)])
    assert [(table, len(data[0])) for table, data, _ in client.inserts] == [("ticks", 25), ("ticks", 5)]
    assert partition.pending_rows == 1  # the decision waits for more rows, the interval or the epoch


def test_partition_when_rows_wait_longer_than_the_interval_then_inserts_one_table_per_batch(
        client: Any, writer_over: Any, ticks: Any, decision: Any) -> None:
    partition, clock = a_partition(writer_over, client, batch_rows=1_000, flush_interval_s=2.0)
    partition.write_batch([decision("s1", False)])
    clock.now += 1.0
    partition.write_batch([TickBatch("IBM", ticks(3))])
    clock.now += 0.9
    partition.write_batch([decision("s2", False)])
    assert client.inserts == []
    clock.now += 0.2  # the decisions have waited 2.1 s, the ticks 1.1 s
    partition.write_batch([decision("s3", False)])
    assert [(table, len(data[0])) for table, data, _ in client.inserts] == [("risk_decisions", 3)]
    clock.now += 1.0  # now the ticks are due: the next batch inserts them, and only them
    partition.write_batch([])
    assert [(table, len(data[0])) for table, data, _ in client.inserts] == [("risk_decisions", 3), ("ticks", 3)]
    assert partition.pending_rows == 0


def test_partition_when_insert_fails_at_snapshot_then_raises_and_keeps_the_rows(
        new_client: Any, writer_over: Any, ticks: Any) -> None:
    partition, _ = a_partition(writer_over, new_client(fail_on="ticks"), batch_rows=1_000, flush_interval_s=60.0)
    partition.write_batch([TickBatch("IBM", ticks(5))])
    with pytest.raises(ClickHouseWriteError, match="INSERT of 5 rows into 'ticks'"):
        partition.snapshot()
    assert partition.pending_rows == 5


def test_partition_close_writes_what_is_left_then_closes_the_client(client: Any, writer_over: Any,
                                                                     ticks: Any) -> None:
    partition, _ = a_partition(writer_over, client, batch_rows=1_000, flush_interval_s=60.0)
    partition.write_batch([TickBatch("IBM", ticks(2))])
    partition.close()
    assert [(table, len(data[0])) for table, data, _ in client.inserts] == [("ticks", 2)]
    assert client.closed


def test_partition_when_an_insert_fails_then_logs_the_cause_before_raising(
        new_client: Any, writer_over: Any, ticks: Any, caplog: pytest.LogCaptureFixture) -> None:
    partition, _ = a_partition(writer_over, new_client(fail_on="ticks"), batch_rows=1_000, flush_interval_s=60.0)
    partition.write_batch([TickBatch("IBM", ticks(5))])
    with caplog.at_level(logging.ERROR, logger="sinks.failure"), pytest.raises(ClickHouseWriteError):
        partition.snapshot()
    assert any(record.getMessage().startswith(f"{FAILURE_MARKER}ClickHouse INSERT of 5 rows into 'ticks' failed: ")
               for record in caplog.records)


def test_partition_close_after_a_failed_insert_neither_writes_nor_raises_nor_blocks_in_the_client(
        new_client: Any, writer_over: Any, ticks: Any) -> None:
    # Bytewax closes every partition while it unwinds from the failure: an error raised here would abort
    # the process before the cause is printed, and closing a chDB client there can block.
    client = new_client(fail_on="ticks")
    partition, _ = a_partition(writer_over, client, batch_rows=1_000, flush_interval_s=60.0)
    partition.write_batch([TickBatch("IBM", ticks(5))])
    with pytest.raises(ClickHouseWriteError):
        partition.snapshot()

    partition.close()

    assert client.inserts == [] and not client.closed


def test_partition_close_when_another_sink_failed_then_leaves_its_rows_to_the_replay(
        client: Any, writer_over: Any, ticks: Any) -> None:
    partition, _ = a_partition(writer_over, client, batch_rows=1_000, flush_interval_s=60.0)
    partition.write_batch([TickBatch("IBM", ticks(2))])
    report_failure("Redis write of 1 feature rows to redis://127.0.0.1:6379/0 failed: [Errno 111] Connection refused")

    partition.close()

    assert client.inserts == []
