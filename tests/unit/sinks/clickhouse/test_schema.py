"""Unit specification of ``Column`` and ``Table``: one declaration gives DDL, migrations and rows."""

from __future__ import annotations

import pyarrow as pa
import pytest

from operators.messages import DriftEvent
from sinks.clickhouse.schema import Column, Table, arrow_type, uint64_id

EVENTS = (
    Column("event_id", "String"),
    Column("symbol", "LowCardinality(String)", "the instrument"),
    Column("ts_ns", "Int64"),
    Column("note", "String", "it's added", value=lambda event: f"{event.detector}:{event.feature}",
           added=True, added_default="''"),
    Column("ts", "DateTime64(9, 'UTC')", computed="MATERIALIZED fromUnixTimestamp64Nano(ts_ns, 'UTC')"),
)


def an_event(event_id: str) -> DriftEvent:
    return DriftEvent(event_id, "IBM", 5, "spread", "adwin", 0.5)


def test_ddl_lists_columns_in_order_with_types_computed_clauses_and_escaped_comments() -> None:
    table = Table("events", DriftEvent, EVENTS, order_by=("symbol", "ts_ns", "event_id"))
    assert table.ddl() == (
        "\nCREATE TABLE IF NOT EXISTS events (\n"
        "    event_id String,\n"
        "    symbol LowCardinality(String) COMMENT 'the instrument',\n"
        "    ts_ns Int64,\n"
        "    note String COMMENT 'it\\'s added',\n"
        "    ts DateTime64(9, 'UTC') MATERIALIZED fromUnixTimestamp64Nano(ts_ns, 'UTC')\n"
        ") ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, event_id)")
    assert table.id_column == "event_id"


def test_migrations_add_only_the_columns_marked_added_with_their_default() -> None:
    table = Table("events", DriftEvent, (*EVENTS, Column("extra", "Array(UInt8)", added=True)),
                  order_by=("event_id",))
    assert table.migrations() == ("ALTER TABLE events ADD COLUMN IF NOT EXISTS note String DEFAULT ''",
                                  "ALTER TABLE events ADD COLUMN IF NOT EXISTS extra Array(UInt8)")


def test_columns_of_reads_attributes_and_functions_and_skips_computed_columns() -> None:
    table = Table("events", DriftEvent, EVENTS, order_by=("event_id",))
    names, columns = table.columns_of([an_event("e1"), an_event("e2")])
    assert names == ("event_id", "symbol", "ts_ns", "note")
    assert columns == [["e1", "e2"], ["IBM", "IBM"], [5, 5], ["adwin:spread", "adwin:spread"]]


def test_uint64_id_names_its_parts_in_the_comment_and_hashes_them() -> None:
    column = uint64_id("symbol", "ts_ns")
    assert column.definition() == "id UInt64 COMMENT 'stable_uint64(symbol, ts_ns)'"
    assert column.getter()(an_event("e1")) == column.getter()(an_event("e2"))


def test_arrow_table_types_follow_the_clickhouse_types() -> None:
    table = Table("events", DriftEvent, (uint64_id("event_id"), *EVENTS[:3]), order_by=("id",), arrow=True)
    arrow = table.arrow_table([an_event("e1")])
    assert arrow.schema.types == [pa.uint64(), pa.string(), pa.string(), pa.int64()]
    assert arrow_type("LowCardinality(Nullable(String))") == pa.string()


def test_an_arrow_table_refuses_a_column_type_arrow_cannot_insert() -> None:
    with pytest.raises(ValueError, match="got 'Map\\(String, Float64\\)'"):
        Table("events", DriftEvent, (Column("values", "Map(String, Float64)"),), order_by=("values",), arrow=True)


def test_a_table_refuses_repeated_columns_and_an_order_key_it_does_not_have() -> None:
    with pytest.raises(ValueError, match="column names must be unique"):
        Table("events", DriftEvent, (EVENTS[0], EVENTS[0]), order_by=("event_id",))
    with pytest.raises(ValueError, match="ORDER BY must name its columns, got \\('id',\\)"):
        Table("events", DriftEvent, EVENTS, order_by=("id",))


def test_a_column_refuses_a_migration_default_without_added_and_a_value_for_a_computed_column() -> None:
    with pytest.raises(ValueError, match="needs added=True"):
        Column("note", "String", added_default="''")
    with pytest.raises(ValueError, match="takes no value"):
        Column("ts", "DateTime64(9, 'UTC')", value="ts_ns", computed="DEFAULT now64(9, 'UTC')")
