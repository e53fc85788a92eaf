"""Unit specification of the ClickHouse writer: settings, schema DDL, grouping and inserts."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace
from typing import Any

import pytest

from operators.messages import (Decision, DriftEvent, FeatureRow, Prediction, Quote, Reject, TickBatch, Trade,
                                ValidTick)
from sinks.clickhouse import (
    ADDED_COLUMNS,
    TABLE_DDL,
    TABLES,
    ClickHouseSettings,
    ClickHouseSink,
    ClickHouseWriteError,
    ClickHouseWriter,
    _ClickHousePartition,
    count_rows,
    group_by_table,
    tick_id,
)
from operators.ids import stable_uint64
from sinks.metrics import MetricsRegistry

TS = 1_700_000_000_000_000_000


def a_decision(signal_id: str, accepted: bool) -> Decision:
    return Decision(signal_id, "IBM", TS, 0, 5, "v1", 1, 10.0, 1_500.0, 150.0, 0.3, "calm", accepted,
                    "ok" if accepted else "max_position", "ACTIVE", 10.0)


def one_of_each() -> list[Any]:
    return [
        ValidTick(Trade("IBM", TS, 150.0, 10.0, "buy"), "ticks", 0, 1),
        ValidTick(Quote("IBM", TS + 1, 149.9, 150.1, 3.0, 4.0), "ticks", 0, 2),
        FeatureRow("IBM", TS, 0, 1, 150.0, ("spread", "rsi"), (0.2, math.nan)),
        Prediction("p1", "IBM", TS, 0, 1, 150.0, "v1", 0.6, 1, 0.2, 0.01, "calm", 0.3, {"trend": 0.7}),
        a_decision("s1", accepted=True),
        a_decision("s2", accepted=False),
        Reject("invalid_json", "decode: expected JSON", "decode", "ticks", 0, 3, b"{", None, None),
        DriftEvent("e1", "IBM", TS, "spread", "adwin", 0.5),
    ]


class FakeClient:
    def __init__(self, fail_on: str | None = None) -> None:
        self.commands: list[str] = []
        self.queries: list[str] = []
        self.inserts: list[tuple[str, list[list[Any]], tuple[str, ...]]] = []
        self.fail_on = fail_on
        self.closed = False

    def command(self, sql: str) -> int:
        self.commands.append(sql)
        return 0

    def query(self, sql: str) -> SimpleNamespace:
        self.queries.append(sql)
        return SimpleNamespace(result_rows=[])  # DESCRIBE: no known types, so none are passed

    def insert_arrow(self, table: str, arrow_table: Any) -> None:
        self.insert(table, [column.to_pylist() for column in arrow_table.columns], tuple(arrow_table.column_names),
                    column_oriented=True)

    def insert(self, table: str, data: list[list[Any]], column_names: tuple[str, ...],
               column_oriented: bool, column_type_names: list[str] | None = None) -> None:
        assert column_oriented
        assert len(data) == len(column_names)
        assert len({len(column) for column in data}) == 1
        if table == self.fail_on:
            raise RuntimeError("Code: 60. Table default.x does not exist")
        self.inserts.append((table, data, column_names))

    def close(self) -> None:
        self.closed = True


def a_writer(client: FakeClient, batch_rows: int = 10_000, metrics: MetricsRegistry | None = None
             ) -> ClickHouseWriter:
    writer = ClickHouseWriter(ClickHouseSettings("chdb:///tmp/unused", batch_rows=batch_rows),
                              metrics or MetricsRegistry())
    writer._client = client  # type: ignore[assignment]
    return writer


def test_http_url_is_parsed_into_client_arguments() -> None:
    settings = ClickHouseSettings("https://desk:p%40ss@ch.internal:8443/market")
    kwargs = settings.client_kwargs()
    assert kwargs["interface"] == "https"
    assert (kwargs["host"], kwargs["port"]) == ("ch.internal", 8443)
    assert (kwargs["username"], kwargs["password"], kwargs["database"]) == ("desk", "p@ss", "market")


def test_http_url_without_port_or_database_uses_defaults() -> None:
    kwargs = ClickHouseSettings("http://ch.internal").client_kwargs()
    assert (kwargs["port"], kwargs["database"], kwargs["username"]) == (8123, "default", "default")


def test_password_never_shows_in_repr_or_redacted_url() -> None:
    settings = ClickHouseSettings("http://desk:hunter2@ch:8123/market")
    assert "hunter2" not in repr(settings)
    assert settings.redacted_url() == "http://desk:***@ch:8123/market"


def test_chdb_url_is_passed_as_dsn() -> None:
    assert ClickHouseSettings("chdb:///data/chdb").client_kwargs() == {"dsn": "chdb:///data/chdb"}


@pytest.mark.parametrize("url", ["postgres://x", "chdb://relative/path", "ch.internal:8123"])
def test_settings_refuse_urls_they_cannot_open(url: str) -> None:
    with pytest.raises(ValueError, match="ClickHouseSettings.url"):
        ClickHouseSettings(url)


def test_settings_refuse_a_batch_size_below_one() -> None:
    with pytest.raises(ValueError, match="batch_rows must be >= 1, got 0"):
        ClickHouseSettings("chdb:///x", batch_rows=0)


@pytest.mark.parametrize("table", TABLES)
def test_every_table_is_replacing_merge_tree_ordered_by_a_deterministic_id(table: str) -> None:
    ddl = TABLE_DDL[table]
    assert f"CREATE TABLE IF NOT EXISTS {table} (" in ddl
    assert "ENGINE = ReplacingMergeTree" in ddl
    order_by = re.search(r"ORDER BY \((.*)\)", ddl)
    assert order_by is not None
    assert order_by.group(1).split(", ")[-1] in ("id", "prediction_id", "signal_id", "event_id")


def test_ensure_schema_creates_every_table_if_missing() -> None:
    client = FakeClient()
    a_writer(client).ensure_schema()
    alters = [f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column}" for table, column in ADDED_COLUMNS]
    assert client.commands == list(TABLE_DDL.values()) + alters
    assert client.queries == [f"DESCRIBE TABLE {table}" for table in TABLE_DDL]  # types read once, not per INSERT
    assert set(TABLES) == {"ticks", "features", "predictions", "signals", "risk_decisions", "rejects",
                           "monitor_events", "cross_asset", "outcomes", "pnl"}


def test_group_by_table_sends_accepted_decisions_to_signals_and_all_to_risk_decisions() -> None:
    groups = group_by_table(one_of_each())
    assert [d.signal_id for d in groups["risk_decisions"]] == ["s1", "s2"]
    assert [d.signal_id for d in groups["signals"]] == ["s1"]
    assert {table: len(rows) for table, rows in groups.items()} == {
        "ticks": 2, "features": 1, "predictions": 1, "risk_decisions": 2, "signals": 1, "rejects": 1,
        "monitor_events": 1}


def test_group_by_table_when_an_unknown_type_arrives_then_raises_naming_it() -> None:
    with pytest.raises(TypeError, match="got dict"):
        group_by_table([{"symbol": "IBM"}])  # type: ignore[list-item]


def test_write_makes_one_column_oriented_insert_per_table() -> None:
    client = FakeClient()
    metrics = MetricsRegistry()
    written = a_writer(client, metrics=metrics).write(one_of_each())
    assert sorted(table for table, _, _ in client.inserts) == sorted(written)
    assert written["ticks"] == 2
    assert metrics.value("tickwise_sink_rows_total", sink="clickhouse", table="ticks") == 2


def test_tick_columns_fill_only_the_fields_of_their_type() -> None:
    client = FakeClient()
    a_writer(client).write(one_of_each()[:2])
    _, data, names = client.inserts[0]
    row = {name: column for name, column in zip(names, data, strict=True)}
    assert row["type"] == ["trade", "quote"]
    assert row["price"] == [150.0, None]
    assert row["bid"] == [None, 149.9]
    assert row["id"][0] != row["id"][1]


def test_feature_ids_are_the_same_on_replay() -> None:
    first, second = FakeClient(), FakeClient()
    a_writer(first).write(one_of_each())
    a_writer(second).write(one_of_each())
    assert first.inserts == second.inserts


def test_write_splits_big_batches_into_inserts_of_batch_rows() -> None:
    client = FakeClient()
    rows = [ValidTick(Trade("IBM", TS + i, 1.0, 1.0), "ticks", 0, i) for i in range(5)]
    a_writer(client, batch_rows=2).write(rows)
    assert [len(data[0]) for _, data, _ in client.inserts] == [2, 2, 1]


def test_write_when_insert_fails_then_raises_naming_table_and_counts_error() -> None:
    metrics = MetricsRegistry()
    writer = a_writer(FakeClient(fail_on="rejects"), metrics=metrics)
    with pytest.raises(ClickHouseWriteError, match=r"INSERT of 1 rows into 'rejects'"):
        writer.write(one_of_each())
    assert metrics.value("tickwise_sink_errors_total", sink="clickhouse") == 1


def test_write_before_connect_raises() -> None:
    with pytest.raises(ClickHouseWriteError, match="connect"):
        ClickHouseWriter(ClickHouseSettings("chdb:///x")).write(one_of_each())


def test_count_rows_reads_with_final_and_refuses_unknown_tables() -> None:
    client = FakeClient()
    count_rows(client, "ticks")  # type: ignore[arg-type]
    assert client.commands == ["SELECT count() FROM ticks FINAL"]
    with pytest.raises(ValueError, match="got 'ticks; DROP'"):
        count_rows(client, "ticks; DROP")  # type: ignore[arg-type]


def test_chdb_sink_has_exactly_one_partition_whatever_the_setting() -> None:
    sink = ClickHouseSink(ClickHouseSettings("chdb:///x", partitions=4))
    assert sink.list_parts() == ["clickhouse-0"]
    assert sink.part_fn("IBM") == 0


def test_http_sink_has_the_configured_partitions_and_stable_routing() -> None:
    sink = ClickHouseSink(ClickHouseSettings("http://ch:8123", partitions=4))
    assert sink.list_parts() == ["clickhouse-0", "clickhouse-1", "clickhouse-2", "clickhouse-3"]
    assert sink.part_fn("IBM") == sink.part_fn("IBM")
    assert len({sink.part_fn(f"S{i}") % 4 for i in range(50)}) == 4


def test_close_on_the_main_thread_closes_the_client_now() -> None:
    client = FakeClient()
    a_writer(client).close()
    assert client.closed


def test_close_of_a_chdb_client_on_a_worker_thread_is_deferred_to_exit() -> None:
    import threading

    from sinks import clickhouse

    client = FakeClient()
    writer = a_writer(client)
    thread = threading.Thread(target=writer.close)
    thread.start()
    thread.join()
    assert not client.closed
    assert client in clickhouse._deferred_clients
    clickhouse._close_deferred_clients()
    assert client.closed


# --- TickBatch and the collecting partition ---------------------------------------------------------------


def some_ticks(count: int, first_offset: int = 0) -> list[ValidTick]:
    return [ValidTick(Trade("IBM", TS + i, 150.0 + i, 10.0, "buy"), "ticks", 0, first_offset + i) for i in range(count)]


def test_group_by_table_spreads_a_tick_batch_into_tick_rows() -> None:
    ticks = some_ticks(3)
    groups = group_by_table([TickBatch("IBM", ticks), ticks[0]])
    assert groups == {"ticks": [*ticks, ticks[0]]}


def test_tick_ids_are_the_stable_uint64_of_topic_partition_and_offset() -> None:
    client = FakeClient()
    a_writer(client).write([TickBatch("IBM", some_ticks(3, first_offset=40))])
    [(table, data, names)] = client.inserts
    assert table == "ticks"
    assert data[names.index("id")] == [stable_uint64("ticks", 0, offset) for offset in (40, 41, 42)]
    assert tick_id("ticks.x", 7, 2**40) == stable_uint64("ticks.x", 7, 2**40)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def a_partition(client: FakeClient, batch_rows: int, flush_interval_s: float) -> tuple[_ClickHousePartition, FakeClock]:
    writer = ClickHouseWriter(ClickHouseSettings("chdb:///tmp/unused", batch_rows=batch_rows,
                                                 flush_interval_s=flush_interval_s), MetricsRegistry())
    writer._client = client  # type: ignore[assignment]
    clock = FakeClock()
    return _ClickHousePartition(writer, clock), clock


def test_partition_when_batches_are_small_then_collects_them_into_one_insert_per_table() -> None:
    client = FakeClient()
    partition, clock = a_partition(client, batch_rows=1_000, flush_interval_s=5.0)
    for batch in range(4):
        partition.write_batch([TickBatch("IBM", some_ticks(10, first_offset=10 * batch)), a_decision(f"s{batch}", True)])
        clock.now += 1.0
    assert client.inserts == [] and partition.pending_rows == 4 * (10 + 2)

    partition.snapshot()  # the end of an epoch writes everything first

    assert sorted((table, len(data[0])) for table, data, _ in client.inserts) == [
        ("risk_decisions", 4), ("signals", 4), ("ticks", 40)]
    assert partition.pending_rows == 0


def test_partition_when_a_table_reaches_batch_rows_then_inserts_that_table_at_once() -> None:
    client = FakeClient()
    partition, _ = a_partition(client, batch_rows=25, flush_interval_s=60.0)
    partition.write_batch([TickBatch("IBM", some_ticks(30)), a_decision("s1", False)])
    assert [(table, len(data[0])) for table, data, _ in client.inserts] == [("ticks", 25), ("ticks", 5)]
    assert partition.pending_rows == 1  # the decision waits for more rows, the interval or the epoch


def test_partition_when_rows_wait_longer_than_the_interval_then_inserts_one_table_per_batch() -> None:
    client = FakeClient()
    partition, clock = a_partition(client, batch_rows=1_000, flush_interval_s=2.0)
    partition.write_batch([a_decision("s1", False)])
    clock.now += 1.0
    partition.write_batch([TickBatch("IBM", some_ticks(3))])
    clock.now += 0.9
    partition.write_batch([a_decision("s2", False)])
    assert client.inserts == []
    clock.now += 0.2  # the decisions have waited 2.1 s, the ticks 1.1 s
    partition.write_batch([a_decision("s3", False)])
    assert [(table, len(data[0])) for table, data, _ in client.inserts] == [("risk_decisions", 3)]
    clock.now += 1.0  # now the ticks are due: the next batch inserts them, and only them
    partition.write_batch([])
    assert [(table, len(data[0])) for table, data, _ in client.inserts] == [("risk_decisions", 3), ("ticks", 3)]
    assert partition.pending_rows == 0


def test_partition_when_insert_fails_at_snapshot_then_raises_and_keeps_the_rows() -> None:
    client = FakeClient(fail_on="ticks")
    partition, _ = a_partition(client, batch_rows=1_000, flush_interval_s=60.0)
    partition.write_batch([TickBatch("IBM", some_ticks(5))])
    with pytest.raises(ClickHouseWriteError, match="INSERT of 5 rows into 'ticks'"):
        partition.snapshot()
    assert partition.pending_rows == 5


def test_partition_close_writes_what_is_left_then_closes_the_client() -> None:
    client = FakeClient()
    partition, _ = a_partition(client, batch_rows=1_000, flush_interval_s=60.0)
    partition.write_batch([TickBatch("IBM", some_ticks(2))])
    partition.close()
    assert [(table, len(data[0])) for table, data, _ in client.inserts] == [("ticks", 2)]
    assert client.closed


def test_settings_refuse_a_negative_flush_interval() -> None:
    with pytest.raises(ValueError, match="flush_interval_s must be >= 0, got -1"):
        ClickHouseSettings("chdb:///x", flush_interval_s=-1.0)
