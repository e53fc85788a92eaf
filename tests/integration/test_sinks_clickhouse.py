"""The ClickHouse writer and sink on a real chDB engine (fresh data directory per test)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import clickhouse_connect
import pytest
from bytewax import operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource, run_main

from operators.messages import Decision, DriftEvent, FeatureRow, Prediction, Quote, Reject, Trade, ValidTick
from sinks.clickhouse import (
    TABLE_DECLARATIONS,
    TABLES,
    ClickHouseSettings,
    ClickHouseSink,
    ClickHouseWriteError,
    ClickHouseWriter,
    count_all,
    count_rows,
)
from sinks.metrics import MetricsRegistry

pytestmark = pytest.mark.integration

TS = 1_700_000_000_000_000_000


def records() -> list[object]:
    ticks = [ValidTick(Trade("IBM", TS + i, 150.0 + i, 10.0, "buy"), "ticks", 0, 2 * i) for i in range(50)]
    ticks += [ValidTick(Quote("MSFT", TS + i, 399.9, 400.1, 3.0, 4.0), "ticks", 1, 2 * i + 1) for i in range(50)]
    features = [FeatureRow("IBM", TS + i, 0, 2 * i, 150.0, ("spread", "rsi"), (0.2, math.nan if i < 3 else 55.0))
                for i in range(40)]
    predictions = [Prediction(f"p{i}", "IBM", TS + i, 0, 2 * i, 150.0, "v1", 0.6, 1, 0.2, 0.01, "calm", 0.3,
                              {"trend": 0.7, "micro": -0.1}) for i in range(30)]
    decisions = [Decision(f"s{i}", "IBM", TS + i, 0, 2 * i, "v1", 1, 10.0, 1_500.0, 150.0, 0.2, "calm",
                          i % 3 != 0, "ok" if i % 3 else "max_position", "ACTIVE", 10.0) for i in range(30)]
    rejects = [Reject("invalid_json", "decode: expected JSON, got b'{'", "decode", "ticks", 0, 1_000 + i,
                      b"{\xff\x00", None, None) for i in range(5)]
    events = [DriftEvent(f"e{i}", "IBM", TS + i, "spread", "adwin", 0.5) for i in range(4)]
    return [*ticks, *features, *predictions, *decisions, *rejects, *events]


WRITTEN = {"ticks": 100, "features": 40, "predictions": 30, "risk_decisions": 30, "signals": 20,
           "rejects": 5, "monitor_events": 4}
# Every table, including those these records do not touch (cross_asset, outcomes, pnl ...): empty.
EXPECTED = {**dict.fromkeys(TABLES, 0), **WRITTEN}


@pytest.fixture()
def writer(chdb_url: str) -> Iterator[ClickHouseWriter]:
    writer = ClickHouseWriter(ClickHouseSettings(chdb_url, batch_rows=64), MetricsRegistry())
    writer.connect()
    writer.ensure_schema()
    yield writer
    writer.close()


def test_ensure_schema_creates_every_table_and_is_idempotent(writer: ClickHouseWriter) -> None:
    writer.ensure_schema()
    tables = {row[0] for row in writer.client.query("SHOW TABLES").result_rows}
    assert set(TABLES) <= tables
    assert count_all(writer.client) == dict.fromkeys(TABLES, 0)


def test_every_table_has_the_declared_columns_and_types(writer: ClickHouseWriter) -> None:
    for table, declaration in TABLE_DECLARATIONS.items():
        described = writer.client.query(f"DESCRIBE TABLE {table}").result_rows
        assert [(row[0], row[1]) for row in described] == [(column.name, column.type) for column in declaration.columns]


def test_ensure_schema_adds_the_newer_columns_to_tables_created_before_them(writer: ClickHouseWriter) -> None:
    first_release = {table: [column for column in declaration.columns if not column.added]
                     for table, declaration in TABLE_DECLARATIONS.items()}
    for table, columns in first_release.items():
        writer.client.command(f"DROP TABLE {table}")
        definitions = ", ".join(f"{column.name} {column.type} {column.computed}" for column in columns)
        order_by = ", ".join(TABLE_DECLARATIONS[table].order_by)
        writer.client.command(f"CREATE TABLE {table} ({definitions}) ENGINE = ReplacingMergeTree ORDER BY ({order_by})")
    writer.client.command("INSERT INTO features (id, symbol, ts_ns, partition, offset, price, names, values) "
                          "VALUES (1, 'IBM', 5, 0, 1, 150.0, ['spread'], [0.2])")

    writer.ensure_schema()

    for table, declaration in TABLE_DECLARATIONS.items():
        described = writer.client.query(f"DESCRIBE TABLE {table}").result_rows
        assert {row[0] for row in described} == {column.name for column in declaration.columns}
    assert writer.client.query("SELECT feature_set, quality FROM features").result_rows == [("", [])]
    assert writer.write(records()) == WRITTEN


def test_write_inserts_every_record_type_into_its_table(writer: ClickHouseWriter) -> None:
    assert writer.write(records()) == WRITTEN
    assert count_all(writer.client) == EXPECTED


def test_rewriting_the_same_batch_leaves_counts_with_final_unchanged(writer: ClickHouseWriter) -> None:
    writer.write(records())
    writer.write(records())
    writer.write(records()[::-1])
    assert count_all(writer.client) == EXPECTED


def test_values_round_trip_exactly(writer: ClickHouseWriter) -> None:
    writer.write(records())
    client = writer.client
    raw = client.query("SELECT raw FROM rejects FINAL LIMIT 1", column_formats={"raw": "bytes"}).result_rows
    assert raw == [(b"{\xff\x00",)]
    names, values = client.query(
        "SELECT names, values FROM features FINAL ORDER BY ts_ns LIMIT 1").result_rows[0]
    assert names == ["spread", "rsi"]
    assert values[0] == 0.2 and math.isnan(values[1])
    rsi = client.query("SELECT values[indexOf(names, 'rsi')] FROM features FINAL ORDER BY ts_ns DESC LIMIT 1")
    assert rsi.result_rows == [(55.0,)]
    assert client.query("SELECT specialists FROM predictions FINAL LIMIT 1").result_rows == [
        ({"trend": 0.7, "micro": -0.1},)]
    quote = client.query("SELECT price, bid, ask FROM ticks FINAL WHERE type = 'quote' LIMIT 1").result_rows
    assert quote == [(None, 399.9, 400.1)]
    assert client.command("SELECT countIf(accepted) FROM signals FINAL") == 20
    assert client.command("SELECT min(toUnixTimestamp64Nano(ts) = ts_ns) FROM ticks FINAL") == 1


def test_insert_into_a_missing_table_raises(writer: ClickHouseWriter) -> None:
    writer.client.command("DROP TABLE features")
    with pytest.raises(ClickHouseWriteError, match="into 'features'"):
        writer.write(records())
    assert writer.metrics is not None
    assert writer.metrics.value("tickwise_sink_errors_total", sink="clickhouse") == 1


def test_insert_through_a_closed_client_raises(writer: ClickHouseWriter) -> None:
    writer.client.close()
    with pytest.raises(ClickHouseWriteError, match="into 'ticks'"):
        writer.write(records()[:1])


def test_sink_inside_a_bytewax_dataflow_writes_keyed_records(chdb_url: str) -> None:
    flow = Dataflow("clickhouse_sink_spec")
    items = records()
    stream = op.input("records", flow, TestingSource(items, batch_size=32))
    keyed = op.key_on("key_by_symbol", stream, lambda record: getattr(record, "symbol", None) or "none")
    op.output("history_out", keyed, ClickHouseSink(ClickHouseSettings(chdb_url), MetricsRegistry()))
    run_main(flow)
    client = clickhouse_connect.get_client(dsn=chdb_url)
    try:
        assert count_all(client) == EXPECTED
        assert count_rows(client, "signals") == 20
    finally:
        client.close()
