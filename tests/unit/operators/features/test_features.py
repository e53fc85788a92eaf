"""Specifications of the per-symbol feature step, on hand-built ticks and on real IBM ticks."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib

from operators.features.symbol import feature_names, FEATURE_NAMES, FeatureConfig, SymbolFeatures
from tests.unit.operators.features.bar_helpers import pandas_bars as grouped_bars
from tests.unit.operators.features.ibm_tape import QUOTE, TRADE, ibm_tape, valid_ticks
from operators.messages import FeatureRow, Quote, Trade, ValidTick

SECOND = 1_000_000_000
MINUTE = 60 * SECOND


def trade(ts_ns: int, price: float, size: float = 100.0, symbol: str = "IBM", offset: int = 0) -> ValidTick:
    return ValidTick(Trade(symbol, ts_ns, price, size), "ticks", 0, offset)


def quote(ts_ns: int, bid: float, ask: float, bid_size: float, ask_size: float, offset: int = 0) -> ValidTick:
    return ValidTick(Quote("IBM", ts_ns, bid, ask, bid_size, ask_size), "ticks", 0, offset)


def comparable(rows: list[FeatureRow]) -> list[tuple]:
    """Rows as tuples with NaN mapped to None, so equal rows compare equal."""
    return [
        (row.symbol, row.ts_ns, row.partition, row.offset, None if math.isnan(row.price) else row.price,
         row.names, tuple(None if math.isnan(value) else value for value in row.values))
        for row in rows
    ]


@pytest.fixture(scope="module")
def ibm_ticks(market_data: Path) -> list[ValidTick]:
    """Real IBM trades and quotes of 2013-10-07 (pre-market to early afternoon) merged in time order."""
    tape = ibm_tape(market_data, trade_rows=250_000, quote_rows=400_000)
    assert (tape["kind"] == TRADE).sum() > 10_000 and (tape["kind"] == QUOTE).sum() > 10_000
    return valid_ticks(tape)


@pytest.fixture(scope="module")
def ibm_rows(ibm_ticks: list[ValidTick]) -> list[FeatureRow]:
    features = SymbolFeatures("IBM", FeatureConfig())
    rows = [row for tick in ibm_ticks for row in features.update(tick)]
    return rows + features.flush()


def trade_frame(ticks: list[ValidTick]) -> pd.DataFrame:
    return pd.DataFrame(
        [(t.tick.ts_ns, t.tick.price, t.tick.size) for t in ticks if isinstance(t.tick, Trade)],
        columns=["ts_ns", "price", "size"],
    )


def pandas_bars(trades: pd.DataFrame, interval_ns: int) -> pd.DataFrame:
    bars = grouped_bars(trades, interval_ns).drop(columns="open")
    bars["end_ns"] = bars.index + interval_ns
    bars["log_return"] = np.log(bars["close"]).diff()
    return bars.reset_index(drop=True)


def column(rows: list[FeatureRow], name: str) -> np.ndarray:
    index = FEATURE_NAMES.index(name)
    return np.array([row.values[index] for row in rows], dtype=float)


def assert_same(ours: np.ndarray, expected: np.ndarray, rtol: float = 1e-9) -> None:
    assert np.array_equal(np.isnan(ours), np.isnan(expected)), "NaN in different places"
    np.testing.assert_allclose(ours[~np.isnan(ours)], expected[~np.isnan(expected)], rtol=rtol, atol=1e-12)


def test_one_row_per_distinct_second_plus_flush_with_ordered_ts_and_no_inf(
    ibm_ticks: list[ValidTick], ibm_rows: list[FeatureRow]
) -> None:
    seconds = [tick.tick.ts_ns // SECOND for tick in ibm_ticks]
    distinct = len(set(seconds))
    last_tick_was_first_of_its_second = seconds[-1] != seconds[-2]
    assert len(ibm_rows) == distinct + (0 if last_tick_was_first_of_its_second else 1)
    timestamps = [row.ts_ns for row in ibm_rows]
    assert timestamps == sorted(timestamps)
    values = np.array([row.values for row in ibm_rows])
    names = feature_names(FeatureConfig())
    assert names[:len(FEATURE_NAMES)] == FEATURE_NAMES
    assert values.shape == (len(ibm_rows), len(names))
    assert not np.isinf(values).any()
    assert all(row.names == names and row.symbol == "IBM" for row in ibm_rows)
    ready = ~np.isnan(values[-1])
    assert ready.all(), f"not ready at the end: {[n for n, r in zip(FEATURE_NAMES, ready) if not r]}"


def test_rows_point_at_the_tick_that_emitted_them(ibm_ticks: list[ValidTick], ibm_rows: list[FeatureRow]) -> None:
    by_offset = {tick.offset: tick for tick in ibm_ticks}
    for row in ibm_rows[:-1]:
        tick = by_offset[row.offset]
        assert tick.tick.ts_ns == row.ts_ns
        previous = by_offset.get(row.offset - 1)
        assert previous is None or previous.tick.ts_ns // SECOND < row.ts_ns // SECOND


def last_completed_bar(bars: pd.DataFrame, rows: list[FeatureRow]) -> np.ndarray:
    """For each row, the position in ``bars`` of the last bar that ended at or before the row's
    time (the last one completed then), or -1 where none had."""
    timestamps = np.array([row.ts_ns for row in rows])
    return np.searchsorted(bars["end_ns"].to_numpy(), timestamps, side="right") - 1


def test_minute_bar_features_match_a_pandas_recomputation_without_lookahead(
    ibm_ticks: list[ValidTick], ibm_rows: list[FeatureRow]
) -> None:
    bars = pandas_bars(trade_frame(ibm_ticks), MINUTE)
    completed = last_completed_bar(bars, ibm_rows)
    has_bar = completed >= 0
    picked = bars.iloc[np.where(has_bar, completed, 0)]

    def expected(values: np.ndarray) -> np.ndarray:
        return np.where(has_bar, values, np.nan)

    assert_same(column(ibm_rows, "vwap_1m"), expected(picked["vwap"].to_numpy()))
    assert_same(column(ibm_rows, "volume_1m"), expected(picked["volume"].to_numpy()))
    assert_same(column(ibm_rows, "trade_count_1m"), expected(picked["trade_count"].to_numpy(float)))
    assert_same(column(ibm_rows, "log_return_1m"), expected(picked["log_return"].to_numpy()))
    closes = bars["close"].to_numpy()
    highs, lows = bars["high"].to_numpy(), bars["low"].to_numpy()
    assert_same(column(ibm_rows, "rsi_1m"), expected(talib.RSI(closes, 14)[picked.index]))
    assert_same(column(ibm_rows, "atr_1m"), expected(talib.ATR(highs, lows, closes, 14)[picked.index]))
    assert_same(column(ibm_rows, "macd_histogram_1m"), expected(talib.MACD(closes, 12, 26, 9)[2][picked.index]))
    upper, _, lower = talib.BBANDS(closes, 20, 2.0, 2.0, 0)
    percent_b = (closes - lower) / (upper - lower)
    assert_same(column(ibm_rows, "bollinger_percent_b_1m"), expected(percent_b[picked.index]))
    last_price = column(ibm_rows, "last_price")
    assert_same(column(ibm_rows, "vwap_deviation_1m"), np.log(last_price / expected(picked["vwap"].to_numpy())))


def test_second_bar_return_matches_a_pandas_recomputation(
    ibm_ticks: list[ValidTick], ibm_rows: list[FeatureRow]
) -> None:
    bars = pandas_bars(trade_frame(ibm_ticks), SECOND)
    completed = last_completed_bar(bars, ibm_rows)
    returns = np.where(completed >= 0, bars["log_return"].to_numpy()[np.maximum(completed, 0)], np.nan)
    assert_same(column(ibm_rows, "log_return_1s"), returns)


def test_pickle_round_trip_mid_stream_continues_with_identical_rows(ibm_ticks: list[ValidTick]) -> None:
    ticks = ibm_ticks[:20_000]
    original = SymbolFeatures("IBM", FeatureConfig())
    for tick in ticks[:12_345]:
        original.update(tick)
    restored = pickle.loads(pickle.dumps(original))
    rest = ticks[12_345:]
    rows_original = [row for tick in rest for row in original.update(tick)] + original.flush()
    rows_restored = [row for tick in rest for row in restored.update(tick)] + restored.flush()
    assert len(rows_original) > 100
    assert comparable(rows_original) == comparable(rows_restored)


def test_state_stays_bounded_by_the_flow_window(ibm_ticks: list[ValidTick]) -> None:
    features = SymbolFeatures("IBM", FeatureConfig(flow_window_ns=2 * SECOND))
    for tick in ibm_ticks:
        features.update(tick)
    now = ibm_ticks[-1].tick.ts_ns
    features.flush()
    quotes_and_trades = features._quotes
    assert all(now - ts < 2 * SECOND for ts in quotes_and_trades._order_flow.times)
    assert all(now - ts < 2 * SECOND for ts in quotes_and_trades._signed_volume.times)


def test_emit_interval_zero_emits_a_row_for_every_tick() -> None:
    features = SymbolFeatures("IBM", FeatureConfig(emit_interval_ns=0))
    ticks = [trade(10, 100.0), trade(10, 100.5), quote(11, 100.0, 100.5, 100.0, 100.0)]
    rows = [row for tick in ticks for row in features.update(tick)]
    assert [row.ts_ns for row in rows] == [10, 10, 11]
    assert features.flush() == []


def test_row_is_emitted_at_the_first_tick_of_a_second_and_includes_it() -> None:
    features = SymbolFeatures("IBM", FeatureConfig())
    assert len(features.update(quote(SECOND, 100.0, 100.5, 300.0, 100.0, offset=1))) == 1
    assert features.update(trade(SECOND + 5, 100.5, offset=2)) == []
    [row] = features.update(quote(2 * SECOND, 100.0, 100.25, 100.0, 100.0, offset=3))
    assert (row.ts_ns, row.offset, row.price) == (2 * SECOND, 3, 100.125)  # the mid while quoted
    assert row.get("mid") == 100.125  # the emitting quote itself is included
    assert row.get("spread") == 0.25
    assert row.get("microprice") == 100.125
    assert row.get("quote_imbalance") == 0.0
    assert row.get("last_trade_age_seconds") == (SECOND - 5) / SECOND
    assert features.flush() == []


def test_microprice_and_spread_are_exact_on_a_hand_built_quote() -> None:
    features = SymbolFeatures("IBM", FeatureConfig())
    [row] = features.update(quote(SECOND, 100.0, 100.5, 300.0, 100.0))
    assert math.isnan(row.get("last_price")) and row.price == 100.25  # no trade yet: mid
    assert row.get("spread") == 0.5
    assert row.get("spread_bps") == 0.5 / 100.25 * 1e4
    assert row.get("microprice") == 100.375
    assert row.get("microprice_deviation_bps") == 0.125 / 100.25 * 1e4
    assert row.get("quote_imbalance") == 0.5


def test_order_flow_imbalance_is_positive_when_the_bid_steps_up() -> None:
    features = SymbolFeatures("IBM", FeatureConfig())
    features.update(quote(SECOND, 100.0, 100.5, 300.0, 100.0))
    features.update(quote(SECOND + 1, 100.25, 100.5, 200.0, 100.0))
    [row] = features.update(quote(2 * SECOND, 100.25, 100.5, 200.0, 100.0))
    assert row.get("order_flow_imbalance") > 0


def test_trades_without_side_are_classified_for_signed_volume() -> None:
    features = SymbolFeatures("IBM", FeatureConfig())
    features.update(quote(SECOND, 100.0, 100.5, 100.0, 100.0))
    features.update(trade(SECOND + 1, 100.5, size=300.0))  # above the mid: buy
    features.update(trade(SECOND + 2, 100.0, size=100.0))  # below the mid: sell
    [row] = features.update(trade(2 * SECOND, 100.0, size=100.0))  # at the bid again: sell
    assert row.get("signed_volume_imbalance") == pytest.approx((300 - 200) / 500)


def test_trades_only_symbol_like_spy_has_nan_quote_features_and_trade_price() -> None:
    features = SymbolFeatures("SPY", FeatureConfig())
    [row] = features.update(trade(SECOND, 167.41, symbol="SPY"))
    assert row.price == 167.41
    for name in ("mid", "spread", "spread_bps", "microprice", "quote_imbalance", "order_flow_imbalance"):
        assert math.isnan(row.get(name)), name


def test_tick_for_another_symbol_is_refused() -> None:
    with pytest.raises(ValueError, match="'SPY'"):
        SymbolFeatures("IBM", FeatureConfig()).update(trade(1, 1.0, symbol="SPY"))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"emit_interval_ns": -1}, "emit_interval_ns must be an integer >= 0, got -1"),
        ({"rsi_period": 1}, "rsi_period must be an integer >= 2, got 1"),
        ({"bollinger_width": 0.0}, "bollinger_width must be a positive finite number, got 0.0"),
        ({"macd_fast_period": 30}, "macd_fast_period must be < macd_slow_period, got 30 and 26"),
        ({"ewma_lambda": 1.5}, "ewma_lambda must be strictly between 0 and 1, got 1.5"),
        ({"flow_window_ns": 0}, "flow_window_ns must be an integer >= 1, got 0"),
    ],
)
def test_invalid_config_is_rejected_naming_the_bad_value(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FeatureConfig(**settings)


def test_feature_names_are_unique_full_words() -> None:
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES)) >= 25
    assert all(name.replace("_", "").isalnum() and name == name.lower() for name in FEATURE_NAMES)
