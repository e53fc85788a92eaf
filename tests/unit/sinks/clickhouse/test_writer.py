"""Unit specification of ``ClickHouseWriter``: schema creation, chunked inserts, failures, close."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from operators.messages import TickBatch, Trade, ValidTick
from sinks.clickhouse import (TABLE_DDL, TABLE_DECLARATIONS, TABLES, ClickHouseSettings, ClickHouseWriteError,
                              ClickHouseWriter, count_rows)
from sinks.clickhouse import writer as writer_module
from sinks.metrics import MetricsRegistry


def test_ensure_schema_creates_every_table_if_missing_then_adds_newer_columns(client: Any, writer_over: Any) -> None:
    writer_over(client).ensure_schema()
    migrations = [migration for table in TABLE_DECLARATIONS.values() for migration in table.migrations()]
    assert client.commands == list(TABLE_DDL.values()) + migrations
    assert len(migrations) == 14
    assert client.queries == [f"DESCRIBE TABLE {table}" for table in TABLES]  # types read once, not per INSERT


def test_write_makes_one_column_oriented_insert_per_table(client: Any, writer_over: Any,
                                                          one_of_each: list[Any]) -> None:
    metrics = MetricsRegistry()
    written = writer_over(client, metrics=metrics).write(one_of_each)
    assert sorted(table for table, _, _ in client.inserts) == sorted(written)
    assert written["ticks"] == 2
    assert metrics.value("tickwise_sink_rows_total", sink="clickhouse", table="ticks") == 2


def test_ticks_are_inserted_as_arrow_with_their_declared_columns(client: Any, writer_over: Any, ticks: Any) -> None:
    writer_over(client).write([TickBatch("IBM", ticks(3, first_offset=40))])
    [(table, data, names)] = client.inserts
    assert (table, names) == ("ticks", TABLE_DECLARATIONS["ticks"].column_names)
    assert data[names.index("offset")] == [40, 41, 42]


def test_the_same_records_give_the_same_rows_on_replay(new_client: Any, writer_over: Any,
                                                       one_of_each: list[Any]) -> None:
    first, second = new_client(), new_client()
    writer_over(first).write(one_of_each)
    writer_over(second).write(one_of_each)
    assert first.inserts == second.inserts


def test_write_splits_big_batches_into_inserts_of_batch_rows(client: Any, writer_over: Any) -> None:
    rows = [ValidTick(Trade("IBM", i, 1.0, 1.0), "ticks", 0, i) for i in range(5)]
    writer_over(client, batch_rows=2).write(rows)
    assert [len(data[0]) for _, data, _ in client.inserts] == [2, 2, 1]


def test_write_when_insert_fails_then_raises_naming_table_and_counts_error(
        new_client: Any, writer_over: Any, one_of_each: list[Any]) -> None:
    metrics = MetricsRegistry()
    writer = writer_over(new_client(fail_on="rejects"), metrics=metrics)
    with pytest.raises(ClickHouseWriteError, match=r"INSERT of 1 rows into 'rejects'"):
        writer.write(one_of_each)
    assert metrics.value("tickwise_sink_errors_total", sink="clickhouse") == 1


def test_write_before_connect_raises(one_of_each: list[Any]) -> None:
    with pytest.raises(ClickHouseWriteError, match="connect"):
        ClickHouseWriter(ClickHouseSettings("chdb:///x")).write(one_of_each)


def test_count_rows_reads_with_final_and_refuses_unknown_tables(client: Any) -> None:
    count_rows(client, "ticks")
    assert client.commands == ["SELECT count() FROM ticks FINAL"]
    with pytest.raises(ValueError, match="got 'ticks; DROP'"):
        count_rows(client, "ticks; DROP")


def test_close_on_the_main_thread_closes_the_client_now(client: Any, writer_over: Any) -> None:
    writer_over(client).close()
    assert client.closed


def test_close_of_a_chdb_client_on_a_worker_thread_is_deferred_to_exit(client: Any, writer_over: Any) -> None:
    thread = threading.Thread(target=writer_over(client).close)
    thread.start()
    thread.join()
    assert not client.closed
    assert client in writer_module._deferred_clients
    writer_module._close_deferred_clients()
    assert client.closed
