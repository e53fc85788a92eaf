"""Specifications of order books inside the per-symbol feature step (``dataflows.symbol_step`` with
``operators.book.tracker``): depth features on book symbols only, a gap invalidates the book until the
next snapshot, gaps are monitor events, and a restore mid-stream continues bit-identically."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import pytest

from dataflows.depthfiles import read_capture
from dataflows.symbol_step import SymbolLogic, SymbolLogicBuilder
from operators.book.tracker import DEPTH_FEATURES
from operators.features.layout import feature_layout
from operators.features.symbol import FeatureConfig
from operators.ingest.clock import EventTimeConfig
from operators.messages import (BookDelta, BookSnapshot, DriftEvent, FeatureRow, Quote, TickBatch, Trade,
                                ValidTick)
from tests.unit.dataflows.comparable import comparable

SECOND = 1_000_000_000
T0 = 1_723_161_255_000_000_000  # 2024-08-09 00:00 UTC, the spot capture
SYMBOL = "BINANCE:BTCUSDT"
SPOT = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "l2" / "examples_spot_btcusdt_20240808.gz"
CONFIG = FeatureConfig()


def build(state: bytes | None = None) -> SymbolLogic:
    return SymbolLogicBuilder(EventTimeConfig(confirmations=1), CONFIG)(state)


def at(message: object, offset: int) -> ValidTick:
    return ValidTick(message, "ticks", 0, offset)  # type: ignore[arg-type]


def feed(logic: SymbolLogic, ticks: list[ValidTick]) -> list[object]:
    out: list[object] = []
    for tick in ticks:
        out.extend(logic.on_item(TickBatch(tick.tick.symbol, [tick]))[0])
    return out


def snapshot(ts_ns: int, update_id: int, bid: float = 100.0) -> BookSnapshot:
    return BookSnapshot(SYMBOL, ts_ns, update_id, ((bid, 2.0), (bid - 0.1, 3.0)), ((bid + 0.1, 1.0), (bid + 0.2, 4.0)))


def delta(ts_ns: int, first: int, last: int, bid: float = 100.0, size: float = 5.0) -> BookDelta:
    return BookDelta(SYMBOL, ts_ns, first, last, ((bid, size),), ())


def rows_of(items: list[object]) -> list[FeatureRow]:
    return [item for item in items if type(item) is FeatureRow]


def test_symbol_with_trades_and_quotes_only_keeps_the_layout_and_feature_set_of_a_flow_without_books() -> None:
    ticks = [at(Trade("IBM", T0 + i * SECOND, 180.0 + i, 100.0), i) if i % 2 else
             at(Quote("IBM", T0 + i * SECOND, 179.9 + i, 180.1 + i, 100.0, 200.0), i) for i in range(6)]

    rows = rows_of(feed(build(), ticks))

    layout = feature_layout(CONFIG)
    assert rows and all(row.names is layout.names and row.feature_set == layout.version for row in rows)
    assert all(len(row.quality) == len(row.values) == len(layout.names) for row in rows)


def test_book_messages_add_the_depth_features_and_are_re_emitted_with_the_admitted_ticks_in_order() -> None:
    ticks = [at(snapshot(T0, 10), 0), at(delta(T0 + SECOND, 11, 12), 1), at(Trade(SYMBOL, T0 + 2 * SECOND, 100.1, 1.0), 2)]

    out = feed(build(), ticks)

    batches = [item for item in out if type(item) is TickBatch]
    # every admitted offset comes out once (the ClickHouse sink stores depth messages in book_messages)
    assert [tick.offset for batch in batches for tick in batch.ticks] == [0, 1, 2]
    assert [type(batch.ticks[0].tick) for batch in batches] == [BookSnapshot, BookDelta, Trade]
    rows = rows_of(out)
    assert len(rows) == 3 and rows[-1].names[-len(DEPTH_FEATURES):] == DEPTH_FEATURES
    assert rows[-1].feature_set.startswith(feature_layout(CONFIG).version + "+l2.")
    assert rows[1].get("book_valid") == 1.0 and rows[1].get("depth_imbalance_l1") == pytest.approx((5 - 1) / 6)


def test_gap_makes_the_book_invalid_with_a_monitor_event_until_the_next_snapshot() -> None:
    logic = build()
    feed(logic, [at(snapshot(T0, 10), 0), at(delta(T0 + SECOND, 11, 12), 1)])

    gap = feed(logic, [at(delta(T0 + 2 * SECOND, 20, 21), 2)])  # ids 13..19 never came
    [event] = [item for item in gap if type(item) is DriftEvent]
    [invalid] = rows_of(gap)
    later = rows_of(feed(logic, [at(delta(T0 + 3 * SECOND, 22, 22), 3)]))  # continues the gap: still invalid
    healed = rows_of(feed(logic, [at(snapshot(T0 + 4 * SECOND, 30, bid=101.0), 4),
                                  at(delta(T0 + 5 * SECOND, 31, 31, bid=101.0, size=1.0), 5)]))

    assert (event.kind, event.feature, event.detector, event.statistic, event.symbol) == (
        "book_gap", "book_valid", "order_book", 1.0, SYMBOL)
    depth = slice(-len(DEPTH_FEATURES), None)
    for row in (invalid, *later):
        assert row.get("book_valid") == 0.0 and all(math.isnan(v) for v in row.values[depth][:-1])
        assert set(row.quality[depth]) == {1}  # MISSING: the row is not complete
        assert not row.complete
    assert [row.get("book_valid") for row in healed] == [1.0, 1.0]
    assert healed[-1].get("depth_imbalance_l1") == 0.0  # 1.0 bid against 1.0 ask after the delta
    assert all(flag in (0, 2) for flag in healed[-1].quality[depth])


def test_stale_or_repeated_delta_is_no_gap() -> None:
    logic = build()
    out = feed(logic, [at(snapshot(T0, 10), 0), at(delta(T0 + SECOND, 11, 12), 1),
                       at(delta(T0 + 2 * SECOND, 11, 12), 2), at(delta(T0 + 3 * SECOND, 13, 13), 3)])

    assert not [item for item in out if type(item) is DriftEvent]
    assert rows_of(out)[-1].get("book_valid") == 1.0


@pytest.fixture(scope="module")
def spot_ticks(tmp_path_factory: pytest.TempPathFactory) -> list[ValidTick]:
    """The first 3,000 lines (about 30 s) of the spot capture (REST snapshot at line 8), as the flow receives them."""
    with gzip.open(SPOT, "rb") as lines:
        head = b"".join(next(lines) for _ in range(3_000))
    path = tmp_path_factory.mktemp("l2") / "spot_head.txt"
    path.write_bytes(head)
    return [at(item.message, offset) for offset, item in enumerate(read_capture([path]).items)]


def test_real_capture_rows_carry_valid_depth_features_after_the_snapshot(spot_ticks: list[ValidTick]) -> None:
    logic = build()
    out = feed(logic, spot_ticks)
    out += logic.on_eof()[0]

    rows = rows_of(out)
    assert len(rows) >= 25 and not [item for item in out if type(item) is DriftEvent]
    valid = [row for row in rows if row.get("book_valid") == 1.0]
    assert len(valid) >= len(rows) - 2  # only rows before the REST snapshot lack a book
    assert all(-1.0 <= row.get("depth_imbalance_l10") <= 1.0 and row.get("depth_bid_25bps") > 0 for row in valid)


def test_restore_mid_stream_continues_bit_identically(spot_ticks: list[ValidTick]) -> None:
    clean = build()
    expected = feed(clean, spot_ticks) + list(clean.on_eof()[0])

    half = len(spot_ticks) // 2
    first = build()
    before = feed(first, spot_ticks[:half])
    resumed = build(first.snapshot())  # the state as Bytewax stores it, through the snapshot envelope
    after = feed(resumed, spot_ticks[half:]) + list(resumed.on_eof()[0])

    assert comparable(before + after) == comparable(expected)


def test_delta_that_crosses_the_book_is_a_book_crossed_event_and_invalid_until_the_next_snapshot() -> None:
    logic = build()
    feed(logic, [at(snapshot(T0, 10), 0)])

    crossed = feed(logic, [at(delta(T0 + SECOND, 11, 11, bid=100.3, size=1.0), 1)])  # bid above the 100.1 ask
    healed = rows_of(feed(logic, [at(snapshot(T0 + 2 * SECOND, 20), 2)]))

    [event] = [item for item in crossed if type(item) is DriftEvent]
    assert (event.kind, event.statistic) == ("book_crossed", 1.0)
    assert rows_of(crossed)[0].get("book_valid") == 0.0 and healed[0].get("book_valid") == 1.0


def test_diffs_before_the_first_snapshot_wait_and_those_it_does_not_contain_are_applied_after_it() -> None:
    logic = build()
    early = rows_of(feed(logic, [at(delta(T0, 8, 9), 0), at(delta(T0 + SECOND, 10, 11, bid=99.9, size=7.0), 1)]))
    after = rows_of(feed(logic, [at(snapshot(T0 + 2 * SECOND, 10), 2)]))

    assert [row.get("book_valid") for row in early] == [0.0, 0.0]
    # ids 8..9 are in the snapshot (stale); 10..11 continues it (first_id <= 10 + 1) and sets 99.9 to 7:
    # bids 2 + 7 against asks 1 + 4.
    assert after[0].get("book_valid") == 1.0
    assert after[0].get("depth_imbalance_l5") == pytest.approx((2.0 + 7.0 - 5.0) / (2.0 + 7.0 + 5.0))
