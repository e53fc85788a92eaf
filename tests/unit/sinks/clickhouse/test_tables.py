"""Unit specification of the table declarations: the schema they generate and where records go."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from operators.events import EventMessage, EventTick
from operators.messages.ids import stable_uint64
from operators.messages import (BookDelta, BookSnapshot, CrossAssetRow, Decision, FeatureRow, Outcome, PnlRow,
                                Prediction, Quote, Reject, TickBatch, Trade, ValidTick)
from operators.options.contract import OptionContract
from operators.options.messages import OptionOpenInterest, OptionQuote
from sinks.clickhouse import (ADDED_COLUMNS, OFFSET_TABLES, TABLE_DDL, TABLE_DECLARATIONS, TABLES, group_by_table,
                              tick_id)

#: The statements that created and migrated the tables of every existing tickwise database
#: (each CREATE statement as its lines).
EXISTING_SCHEMA = Path(__file__).with_name("existing_schema.json")


def test_generated_ddl_and_migrations_are_those_existing_databases_were_created_with() -> None:
    existing = json.loads(EXISTING_SCHEMA.read_text())
    generated = {name: ddl.strip().splitlines() for name, ddl in TABLE_DDL.items()}
    first = list(existing["tables"])
    assert {name: generated[name] for name in first} == existing["tables"]
    # Tables added since come after the first release's, whole (CREATE TABLE IF NOT EXISTS on start-up).
    assert list(TABLE_DDL) == [*first, *existing["tables_added"]]
    assert {name: generated[name] for name in existing["tables_added"]} == existing["tables_added"]
    assert [migration for table in TABLE_DECLARATIONS.values()
            for migration in table.migrations()] == existing["migrations"]


def test_risk_decisions_has_the_columns_and_order_key_of_signals_and_takes_every_decision() -> None:
    signals, risk_decisions = TABLE_DECLARATIONS["signals"], TABLE_DECLARATIONS["risk_decisions"]
    assert (risk_decisions.columns, risk_decisions.order_by) == (signals.columns, signals.order_by)
    assert risk_decisions.keeps is None and signals.keeps is not None


def test_every_tickwise_table_is_declared_once() -> None:
    assert set(TABLES) == {"ticks", "features", "predictions", "signals", "risk_decisions", "rejects",
                           "monitor_events", "cross_asset", "outcomes", "pnl", "book_messages", "option_analytics",
                           "vol_surface", "option_messages", "option_features", "event_messages"}
    assert list(TABLE_DDL) == list(TABLES) == list(TABLE_DECLARATIONS)


@pytest.mark.parametrize("table", TABLES)
def test_every_table_is_replacing_merge_tree_ordered_by_a_deterministic_id(table: str) -> None:
    ddl = TABLE_DDL[table]
    assert f"CREATE TABLE IF NOT EXISTS {table} (" in ddl
    assert "ENGINE = ReplacingMergeTree" in ddl
    order_by = re.search(r"ORDER BY \((.*)\)", ddl)
    assert order_by is not None
    assert order_by.group(1).split(", ")[-1] == TABLE_DECLARATIONS[table].id_column
    assert TABLE_DECLARATIONS[table].id_column in ("id", "prediction_id", "signal_id", "event_id")


def test_added_columns_are_those_of_the_portfolio_risk_engine_and_the_feature_set_version() -> None:
    assert [column.split()[0] for table, column in ADDED_COLUMNS if table == "features"] == ["feature_set", "quality"]
    decision_columns = ["level", "detail", "risk_score", "var", "gross_exposure", "net_exposure"]
    for table in ("signals", "risk_decisions"):
        assert [column.split()[0] for name, column in ADDED_COLUMNS if name == table] == decision_columns


@pytest.mark.parametrize("record_type, table", [
    (Prediction, "predictions"), (Decision, "risk_decisions"), (Outcome, "outcomes")])
def test_tables_of_a_struct_write_every_field_of_it(record_type: type, table: str) -> None:
    assert set(TABLE_DECLARATIONS[table].column_names) == set(record_type.__struct_fields__)


def test_group_by_table_sends_accepted_decisions_to_signals_and_all_to_risk_decisions(one_of_each: list[Any]) -> None:
    groups = group_by_table(one_of_each)
    assert [d.signal_id for d in groups["risk_decisions"]] == ["s1", "s2"]
    assert [d.signal_id for d in groups["signals"]] == ["s1"]
    assert {table: len(rows) for table, rows in groups.items()} == {
        "ticks": 2, "features": 1, "predictions": 1, "risk_decisions": 2, "signals": 1, "rejects": 1,
        "monitor_events": 1}


def test_group_by_table_when_an_unknown_type_arrives_then_raises_naming_it() -> None:
    with pytest.raises(TypeError, match="got dict"):
        group_by_table([{"symbol": "IBM"}])  # type: ignore[list-item]


def test_group_by_table_spreads_a_tick_batch_into_tick_rows(ticks: Any) -> None:
    batch = ticks(3)
    assert group_by_table([TickBatch("IBM", batch), batch[0]]) == {"ticks": [*batch, batch[0]]}


def test_group_by_table_sends_depth_messages_of_a_batch_or_alone_to_book_messages_and_ticks_to_ticks() -> None:
    snapshot = ValidTick(BookSnapshot("X", 1, 7, ((10.0, 1.0),), ((11.0, 2.0),)), "ticks", 0, 1)
    trade = ValidTick(Trade("X", 2, 10.5, 1.0, "buy"), "ticks", 0, 2)
    delta = ValidTick(BookDelta("X", 3, 8, 9, (), ((11.0, 0.0),), prev_id=7), "ticks", 0, 3)

    assert group_by_table([TickBatch("X", [snapshot, trade, delta])]) == {"book_messages": [snapshot, delta],
                                                                         "ticks": [trade]}
    assert group_by_table([TickBatch("X", [snapshot]), delta]) == {"book_messages": [snapshot, delta]}


def test_book_message_columns_hold_kind_update_ids_and_level_counts() -> None:
    snapshot = ValidTick(BookSnapshot("X", 1, 7, ((10.0, 1.0), (9.0, 2.0)), ((11.0, 2.0),)), "ticks", 1, 40)
    delta = ValidTick(BookDelta("X", 3, 8, 9, (), ((11.0, 0.0),), prev_id=7), "ticks", 1, 41)
    spot = ValidTick(BookDelta("X", 4, 10, 12, ((10.0, 3.0),), ()), "ticks", 1, 42)

    names, columns = TABLE_DECLARATIONS["book_messages"].columns_of([snapshot, delta, spot])

    row = dict(zip(names, columns, strict=True))
    assert row["kind"] == ["snapshot", "delta", "delta"]
    assert (row["first_id"], row["last_id"], row["prev_id"]) == ([7, 8, 10], [7, 9, 12], [None, 7, None])
    assert (row["bid_levels"], row["ask_levels"]) == ([2, 0, 1], [1, 1, 0])
    assert row["id"] == [tick_id("ticks", 1, offset) for offset in (40, 41, 42)]


def test_group_by_table_sends_option_messages_to_option_messages_with_kind_and_contract() -> None:
    contract = OptionContract("GOOG", dt.date(2016, 1, 15), 750.0, "C")
    quote = ValidTick(OptionQuote(contract, 5, 1.0, 1.2, 3.0, 4.0), "ticks", 0, 7)
    trade = ValidTick(Trade("GOOG", 6, 740.0, 100.0, "buy"), "ticks", 0, 8)
    interest = ValidTick(OptionOpenInterest(contract, 4, 120.0), "ticks", 0, 9)

    groups = group_by_table([TickBatch("GOOG", [quote, trade, interest])])
    names, columns = TABLE_DECLARATIONS["option_messages"].columns_of(groups["option_messages"])

    assert groups == {"option_messages": [quote, interest], "ticks": [trade]}
    row = dict(zip(names, columns, strict=True))
    assert (row["symbol"], row["kind"]) == (["GOOG", "GOOG"], ["quote", "open_interest"])
    assert row["contract"] == [contract.symbol] * 2 and row["offset"] == [7, 9]


def test_group_by_table_sends_events_to_event_messages_with_their_source_entity_and_times() -> None:
    event = EventMessage("trading_economics", "fed_interest_rate_decision", "US", "17459", 30, 40, 2, actual=0.25)
    delivered = ValidTick(EventTick("IBM", 50, event), "ticks", 1, 7)
    trade = ValidTick(Trade("IBM", 51, 150.0, 100.0, "buy"), "ticks", 1, 8)

    groups = group_by_table([TickBatch("IBM", [delivered, trade])])
    names, columns = TABLE_DECLARATIONS["event_messages"].columns_of(groups["event_messages"])

    assert groups == {"event_messages": [delivered], "ticks": [trade]}
    assert dict(zip(names, (column[0] for column in columns), strict=True)) == {
        "id": tick_id("ticks", 1, 7), "symbol": "IBM", "ts_ns": 50, "source": "trading_economics",
        "event_type": "fed_interest_rate_decision", "entity": "US", "event_id": "17459", "public_ts_ns": 30,
        "scheduled_ts_ns": 40, "importance": 2, "topic": "ticks", "partition": 1, "offset": 7}
    assert TABLE_DECLARATIONS["event_messages"].arrow_table(groups["event_messages"]).num_rows == 1


def test_offsets_of_the_ticks_topic_are_accounted_for_by_ticks_depth_option_and_event_messages_and_rejects() -> None:
    assert OFFSET_TABLES == ("ticks", "book_messages", "option_messages", "event_messages", "rejects")
    assert all({"topic", "partition", "offset"} <= set(TABLE_DECLARATIONS[name].column_names) for name in OFFSET_TABLES)


def test_tick_columns_fill_only_the_fields_of_their_type() -> None:
    trade = ValidTick(Trade("IBM", 1, 150.0, 10.0, "buy"), "ticks", 0, 1)
    quote = ValidTick(Quote("IBM", 2, 149.9, 150.1, 3.0, 4.0), "ticks", 0, 2)
    names, columns = TABLE_DECLARATIONS["ticks"].columns_of([trade, quote])
    row = dict(zip(names, columns, strict=True))
    assert row["type"] == ["trade", "quote"]
    assert (row["price"], row["side"], row["bid"], row["ask_size"]) == ([150.0, None], ["buy", None],
                                                                       [None, 149.9], [None, 4.0])
    assert row["symbol"] == ["IBM", "IBM"] and row["ts_ns"] == [1, 2]


def test_tick_ids_are_the_stable_uint64_of_topic_partition_and_offset(ticks: Any) -> None:
    names, columns = TABLE_DECLARATIONS["ticks"].columns_of(ticks(3, first_offset=40))
    assert columns[names.index("id")] == [stable_uint64("ticks", 0, offset) for offset in (40, 41, 42)]
    assert tick_id("ticks.x", 7, 2**40) == stable_uint64("ticks.x", 7, 2**40)


def test_id_columns_are_computed_from_the_record() -> None:
    feature = FeatureRow("IBM", 5, 1, 17, 150.0, ("spread",), (0.2,))
    reject = Reject("invalid_json", "decode", "decode", "ticks", 0, 3, b"{")
    pair = CrossAssetRow("IBM/SPY", "IBM", "SPY", 60, 30, 0.5, 1.1, 12)
    pnl = PnlRow("row-1", "IBM", "v1", 5, 1.0, 150.0, 150.5, 0.0, 0.5, 0.01, 0.49, 1, 0, 0, 0.0, 0.0, 0.0, 0.0)
    assert TABLE_DECLARATIONS["features"].columns_of([feature])[1][0] == [stable_uint64("IBM", 5, 1, 17)]
    assert TABLE_DECLARATIONS["rejects"].columns_of([reject])[1][0] == [stable_uint64("ticks", 0, 3, "decode")]
    assert TABLE_DECLARATIONS["cross_asset"].columns_of([pair])[1][0] == [stable_uint64("IBM/SPY", 30, 60)]
    assert TABLE_DECLARATIONS["pnl"].columns_of([pnl])[1][0] == ["row-1"]


def test_server_filled_columns_are_never_written() -> None:
    for table in TABLE_DECLARATIONS.values():
        assert "ts" not in table.column_names and "inserted_at" not in table.column_names
        assert "inserted_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')" in table.ddl()


def test_group_by_table_spreads_a_chain_minute_into_contract_expiry_and_feature_rows() -> None:
    import datetime as dt

    from operators.options.minute import ChainMinute

    contract_row = {"symbol": "GOOG  160115C00750000", "ts_ns": 60, "iv": 0.25}
    expiry_row = {"underlying": "GOOG", "expiry": dt.date(2016, 1, 15), "ts_ns": 60}
    priced = ChainMinute("GOOG", 60, [contract_row], [expiry_row], {"atm_iv": 0.3, "rr25": -0.05}, {})
    empty = ChainMinute("GOOG", 120, [], [], {}, {})
    groups = group_by_table([priced, empty])
    assert groups == {"option_analytics": [contract_row], "vol_surface": [expiry_row],
                      "option_features": [priced, empty]}
    assert TABLE_DECLARATIONS["option_analytics"].columns[0].getter()(contract_row) == stable_uint64(
        "GOOG  160115C00750000", 60)


def test_option_features_has_a_row_per_chain_minute_with_names_and_values_aligned_like_features() -> None:
    from operators.options.minute import ChainMinute

    table = TABLE_DECLARATIONS["option_features"]
    names, columns = table.columns_of([ChainMinute("GOOG", 60, [], [], {"atm_iv": 0.3, "term_slope": math.nan}, {}),
                                       ChainMinute("SPY", 60, [], [], {}, {})])
    rows = [dict(zip(names, values)) for values in zip(*columns)]
    assert rows[0] == {"id": stable_uint64("GOOG", 60), "underlying": "GOOG", "ts_ns": 60,
                       "names": ["atm_iv", "term_slope"], "values": [0.3, rows[0]["values"][1]]}
    assert math.isnan(rows[0]["values"][1]) and rows[1]["names"] == rows[1]["values"] == []
    assert [(c.name, c.type) for c in table.columns if c.name in ("names", "values")] == [
        (c.name, c.type) for c in TABLE_DECLARATIONS["features"].columns if c.name in ("names", "values")]
    assert list(TABLE_DECLARATIONS).index("option_features") > list(TABLE_DECLARATIONS).index("option_messages")
