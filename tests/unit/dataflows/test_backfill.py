"""Specifications of the backfill: the file source, day parsing, rows to a training frame, live features."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from bytewax import operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, run_main

from dataflows.backfill import (FileTickSource, _NoModel, book_symbols, common_features, feature_set_of, parse_day,
                               rows_to_frame, run_backfill)
from dataflows.components import build_components
from dataflows.config import load_settings
from dataflows.symbol_step import SymbolLogicBuilder
from dataflows.tickfiles import iter_tick_messages
from operators.events import EVENT_FEATURE_SET, EventJoinConfig
from operators.ingest.clock import EventTimeConfig
from operators.features.symbol import FeatureConfig
from operators.features.layout import feature_layout
from operators.messages import BookDelta, BookSnapshot, FeatureRow, Quote, SourceRecord, TickBatch, Trade, ValidTick
from operators.ingest.validation import ValidationLimits, decode_tick
from sinks.metrics import MetricsRegistry

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample"
SECOND = 1_000_000_000
SESSION_OPEN_NS = 1_381_325_400 * SECOND  # 2013-10-09 13:30 UTC


def messages(count: int) -> list[tuple[bytes, bytes]]:
    return [(f"S{i % 3}".encode(), f"message-{i}".encode()) for i in range(count)]


def drain(source: FileTickSource, resume: int | None = None, stop_after: int | None = None
          ) -> tuple[list[SourceRecord], int]:
    """Read a part to its end (or until ``stop_after`` records); return the records and the snapshot."""
    part = source.build_part("ticks_in", "0", resume)
    records: list[SourceRecord] = []
    while stop_after is None or len(records) < stop_after:
        try:
            records.extend(part.next_batch())
        except StopIteration:
            break
    return records, part.snapshot()


# --- FileTickSource ----------------------------------------------------------------------------------------


def test_file_tick_source_when_read_then_every_message_once_with_offsets_in_order() -> None:
    sent = messages(2_345)
    source = FileTickSource(sent, topic="history", batch_size=500)

    records, snapshot = drain(source)

    assert source.list_parts() == ["0"]
    assert len(source) == len(sent)
    assert [r.offset for r in records] == list(range(len(sent)))
    assert [(r.key, r.value) for r in records] == sent
    assert {(r.topic, r.partition) for r in records} == {("history", 0)}
    assert snapshot == len(sent)


def test_file_tick_source_when_resumed_from_snapshot_then_continues_without_gap_or_repeat() -> None:
    sent = messages(1_000)
    source = FileTickSource(sent, batch_size=300)
    first, snapshot = drain(source, stop_after=600)

    rest, _ = drain(source, resume=snapshot)

    assert snapshot == len(first) == first[-1].offset + 1
    assert [r.offset for r in first + rest] == list(range(len(sent)))
    assert [r.value for r in rest] == [value for _, value in sent[snapshot:]]


def test_file_tick_source_over_an_iterator_reads_lazily_resumes_by_skipping_and_reports_progress(monkeypatch) -> None:
    import dataflows.backfill as backfill

    monkeypatch.setattr(backfill, "PROGRESS_EVERY", 250)
    sent = messages(1_000)
    pulled: list[int] = []

    def lazily():
        for i, message in enumerate(sent):
            pulled.append(i)
            yield message

    seen: list[int] = []
    source = FileTickSource(lazily(), batch_size=300, progress=seen.append)
    part = source.build_part("ticks_in", "0", 100)  # resume after the first 100
    first = part.next_batch()

    assert [r.offset for r in first] == list(range(100, 400)) and len(pulled) == 400  # nothing read ahead
    assert [r.value for r in first] == [value for _, value in sent[100:400]]
    assert len(source) == 400 and seen == [400]


def test_file_tick_source_when_resumed_at_end_then_reads_nothing() -> None:
    sent = messages(10)

    rest, snapshot = drain(FileTickSource(sent), resume=len(sent))

    assert rest == [] and snapshot == len(sent)


def test_file_tick_source_when_run_by_bytewax_then_every_message_once() -> None:
    sent = messages(777)
    out: list[SourceRecord] = []
    flow = Dataflow("file_source_spec")
    op.output("out", op.input("ticks_in", flow, FileTickSource(sent, batch_size=100)), TestingSink(out))

    run_main(flow)

    assert [(r.offset, r.key, r.value) for r in out] == [(i, k, v) for i, (k, v) in enumerate(sent)]


# --- parse_day ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["2013-10-08", "2000-01-01", "2024-02-29"])
def test_parse_day_when_iso_day_then_epoch_ns_at_utc_midnight(day: str) -> None:
    midnight = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)

    assert parse_day(day) == pd.Timestamp(midnight).value
    assert datetime.fromtimestamp(parse_day(day) / SECOND, tz=timezone.utc) == midnight


@pytest.mark.parametrize("bad", ["2013-13-01", "2013-02-30", "2023-02-29", "08/10/2013", "2013-10-08T12:00", "",
                                 "yesterday"])
def test_parse_day_when_not_a_day_then_value_error_names_format_and_input(bad: str) -> None:
    with pytest.raises(ValueError, match=r"expected a day as YYYY-MM-DD") as caught:
        parse_day(bad)

    assert repr(bad) in str(caught.value)
    assert caught.value.__cause__ is None


# --- rows_to_frame -----------------------------------------------------------------------------------------


def row(symbol: str, ts_ns: int, offset: int, price: float, values: tuple[float, ...]) -> FeatureRow:
    return FeatureRow(symbol, ts_ns, 0, offset, price, ("alpha", "beta"), values)


def test_rows_to_frame_when_rows_then_id_columns_then_one_column_per_feature_sorted() -> None:
    rows = [row("SPY", 20, 3, 168.5, (1.0, math.nan)), row("IBM", 30, 5, 180.1, (2.0, 3.0)),
            row("IBM", 10, 1, 180.0, (4.0, 5.0)), row("IBM", 30, 4, 180.2, (6.0, 7.0))]

    frame = rows_to_frame(rows)

    assert list(frame.columns) == ["symbol", "ts_ns", "offset", "price", *rows[0].names]
    ordered = sorted(rows, key=lambda r: (r.symbol, r.ts_ns, r.offset))
    assert frame["symbol"].tolist() == [r.symbol for r in ordered]
    assert frame["ts_ns"].tolist() == [r.ts_ns for r in ordered]
    assert frame["offset"].tolist() == [r.offset for r in ordered]
    assert frame["price"].tolist() == [r.price for r in ordered]
    for name in rows[0].names:
        pd.testing.assert_series_equal(frame[name], pd.Series([r.get(name) for r in ordered], name=name),
                                       check_index=False)
    assert frame["ts_ns"].dtype == "int64" and frame["offset"].dtype == "int64"
    assert str(frame["alpha"].dtype) == "float64"


def test_rows_to_frame_when_no_rows_then_value_error_says_what_to_check() -> None:
    with pytest.raises(ValueError, match="no feature rows"):
        rows_to_frame([])


def rows_of_a_book_symbol_and_a_plain_one(events: EventJoinConfig | None = None) -> list[FeatureRow]:
    """Feature rows of the live symbol step: BOOK has depth messages, IBM trades and quotes only."""
    out: list[object] = []
    for symbol in ("BOOK", "IBM"):
        logic = SymbolLogicBuilder(EventTimeConfig(confirmations=1), FeatureConfig(), events=events)(None)
        ticks: list[object] = [BookSnapshot(symbol, SESSION_OPEN_NS, 10, ((100.0, 2.0),), ((100.2, 1.0),))] * (
            symbol == "BOOK")
        for i in range(1, 8):
            ts = SESSION_OPEN_NS + i * SECOND
            ticks += [Quote(symbol, ts, 100.0 + i / 10, 100.2 + i / 10, 2.0, 1.0), Trade(symbol, ts + 1, 100.1, 1.0)]
            if symbol == "BOOK":
                ticks.append(BookDelta(symbol, ts + 2, 10 + i, 10 + i, ((100.0, 2.0 + i),), ()))
        for offset, tick in enumerate(ticks):
            out.extend(logic.on_item(TickBatch(symbol, [ValidTick(tick, "ticks", 0, offset)]))[0])  # type: ignore[arg-type]
        out.extend(logic.on_eof()[0])
    return [item for item in out if type(item) is FeatureRow]


def test_rows_of_symbols_with_and_without_books_train_on_the_features_they_share() -> None:
    rows = rows_of_a_book_symbol_and_a_plain_one()
    base = feature_layout(FeatureConfig())
    assert {row.feature_set for row in rows} == {base.version, *(r.feature_set for r in rows if r.symbol == "BOOK")}
    assert len({row.feature_set for row in rows}) == 2 and book_symbols(rows) == ["BOOK"]

    frame = rows_to_frame(rows)

    assert feature_set_of(rows) == base.version
    assert list(frame.columns) == ["symbol", "ts_ns", "offset", "price", *base.names]
    book_rows = [row for row in rows if row.symbol == "BOOK"]
    shared = [row.values[:len(base.names)] for row in book_rows]
    assert [tuple(row.values) for row in common_features(rows) if row.symbol == "BOOK"] == shared
    assert set(frame["symbol"]) == {"BOOK", "IBM"} and len(frame) == len(rows)


def test_with_events_joined_rows_with_and_without_books_train_on_the_shared_features_and_keep_the_extension() -> None:
    rows = rows_of_a_book_symbol_and_a_plain_one(EventJoinConfig())
    base = feature_layout(FeatureConfig())
    plain = next(row for row in rows if row.symbol == "IBM")
    assert plain.feature_set == base.version + EVENT_FEATURE_SET and book_symbols(rows) == ["BOOK"]

    frame = rows_to_frame(rows)

    assert feature_set_of(rows) == base.version + EVENT_FEATURE_SET
    assert list(frame.columns) == ["symbol", "ts_ns", "offset", "price", *plain.names]
    for row, common in zip(rows, common_features(rows), strict=True):
        assert common.feature_set == plain.feature_set and common.names == plain.names
        assert common.values == tuple(row.get(name) for name in plain.names)


def test_rows_of_unrelated_feature_sets_then_value_error_names_them() -> None:
    rows = [FeatureRow("A", 1, 0, 1, 1.0, ("alpha",), (1.0,), "v1"), FeatureRow("B", 1, 0, 2, 1.0, ("alpha",), (1.0,), "v2")]
    with pytest.raises(ValueError, match=r"2 feature sets \(\['v1', 'v2'\]\)"):
        feature_set_of(rows)


# --- run_backfill: the live feature stage ------------------------------------------------------------------


def test_run_backfill_when_real_ticks_then_rows_equal_the_live_symbol_logic(tmp_path: Path) -> None:
    files = [SAMPLE / "ibm_2013-10-09_trades.csv.gz", SAMPLE / "ibm_2013-10-09_quotes.csv.gz"]
    start_ns, end_ns = SESSION_OPEN_NS, SESSION_OPEN_NS + 5 * 60 * SECOND
    settings = load_settings(clickhouse={"url": f"chdb://{tmp_path / 'chdb'}"}, run={"state_dir": tmp_path})
    components = build_components(settings, ensemble=_NoModel(), registry=MetricsRegistry())  # type: ignore[arg-type]

    result = run_backfill(components, files, start_ns, end_ns, symbols=["IBM"])

    limits = ValidationLimits()
    logic = SymbolLogicBuilder(EventTimeConfig(), FeatureConfig())(None)
    expected: list[FeatureRow] = []
    ticks = 0
    for offset, (key, value) in enumerate(iter_tick_messages(files, ["IBM"], start_ns, end_ns)):
        ticks += 1
        item = decode_tick(SourceRecord("file", 0, offset, key, value), limits)
        if isinstance(item, ValidTick):
            expected.extend(out for out in logic.on_item(item)[0] if isinstance(out, FeatureRow))
    expected.extend(out for out in logic.on_eof()[0] if isinstance(out, FeatureRow))
    assert result.ticks == ticks > 1_000
    assert len(result.rows) == len(expected) > 100
    assert rows_to_frame(result.rows).equals(rows_to_frame(expected))


def test_run_backfill_with_events_gives_the_rows_the_event_features_produce_and_the_live_flow_give(
        tmp_path: Path) -> None:
    from operators.events import EventMessage

    files = [SAMPLE / "ibm_2013-10-09_trades.csv.gz", SAMPLE / "ibm_2013-10-09_quotes.csv.gz"]
    start_ns, end_ns = SESSION_OPEN_NS, SESSION_OPEN_NS + 2 * 60 * SECOND
    fomc = EventMessage("trading_economics", "fomc_minutes", "US", "1:schedule", SESSION_OPEN_NS - 86_400 * SECOND,
                        SESSION_OPEN_NS + 3_600 * SECOND, 3)
    settings = load_settings(clickhouse={"url": f"chdb://{tmp_path / 'chdb'}"}, run={"state_dir": tmp_path},
                             events={"markets": ("US",)})
    components = build_components(settings, ensemble=_NoModel(), registry=MetricsRegistry())  # type: ignore[arg-type]

    plain = run_backfill(components, files, start_ns, end_ns, symbols=["IBM"])
    joined = run_backfill(components, files, start_ns, end_ns, symbols=["IBM"], events=[fomc])

    assert joined.ticks == plain.ticks + 1 and len(joined.rows) == len(plain.rows) > 10  # one event message, for IBM
    assert plain.events is None and (joined.events.events, len(joined.events.messages)) == (1, 1)
    assert {row.feature_set for row in joined.rows} == {plain.rows[0].feature_set}
    assert plain.rows[0].feature_set.endswith(EVENT_FEATURE_SET)
    to_next = [row.get("us_seconds_to_next_high_importance") for row in joined.rows]
    assert all(not math.isnan(value) and 0 < value <= 3_600 for value in to_next)
    assert all(math.isnan(row.get("us_seconds_to_next_high_importance")) for row in plain.rows)
    width = len(EventJoinConfig().names)
    assert [row.names for row in joined.rows] == [row.names for row in plain.rows]
    base = [[value for value in row.values[:-width]] for row in joined.rows]
    assert pd.DataFrame(base).equals(pd.DataFrame([list(row.values[:-width]) for row in plain.rows]))
