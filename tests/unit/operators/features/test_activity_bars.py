"""Tick, volume and dollar bars on real IBM trades, checked against a pandas grouping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from operators.features.activity_bars import DollarBarBuilder, TickBarBuilder, VolumeBarBuilder

TRADES = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "market" / "trades.csv.gz"


@pytest.fixture(scope="module")
def ibm_trades() -> pd.DataFrame:
    frame = pd.read_csv(TRADES, nrows=400_000)
    return frame[frame["symbol"] == "IBM"].head(5_000).reset_index(drop=True)


def _expected_bars(trades: pd.DataFrame, weight: np.ndarray, threshold: float) -> pd.DataFrame:
    """Reference: a bar closes at the first trade whose cumulative weight reaches the threshold."""
    bar_ids = np.empty(len(trades), dtype=np.int64)
    bar, progress = 0, 0.0
    for index, value in enumerate(weight):
        bar_ids[index] = bar
        progress += value
        if progress >= threshold:
            bar, progress = bar + 1, 0.0
    trades = trades.assign(bar=bar_ids, notional=trades["price"] * trades["size"])
    grouped = trades.groupby("bar")
    return pd.DataFrame({
        "open": grouped["price"].first(), "high": grouped["price"].max(), "low": grouped["price"].min(),
        "close": grouped["price"].last(), "volume": grouped["size"].sum(),
        "vwap": grouped["notional"].sum() / grouped["size"].sum(), "trade_count": grouped.size(),
        "start_ns": grouped["ts_ns"].first(), "end_ns": grouped["ts_ns"].last(),
    })


def _run(builder, trades: pd.DataFrame) -> pd.DataFrame:
    bars = []
    for ts_ns, price, size in zip(trades["ts_ns"], trades["price"], trades["size"]):
        completed = builder.update(int(ts_ns), float(price), float(size), "unknown")
        if completed is not None:
            bars.append(completed)
    last = builder.flush()
    if last is not None:
        bars.append(last)
    return pd.DataFrame([{field: getattr(bar, field) for field in
                          ("open", "high", "low", "close", "volume", "vwap", "trade_count", "start_ns", "end_ns")}
                         for bar in bars])


@pytest.mark.parametrize(("builder", "weight", "threshold"), [
    (lambda: TickBarBuilder(ticks_per_bar=50), lambda t: np.ones(len(t)), 50.0),
    (lambda: VolumeBarBuilder(volume_per_bar=20_000.0), lambda t: t["size"].to_numpy(float), 20_000.0),
    (lambda: DollarBarBuilder(dollars_per_bar=2_000_000.0), lambda t: (t["price"] * t["size"]).to_numpy(float),
     2_000_000.0),
], ids=["tick", "volume", "dollar"])
def test_bars_from_real_trades_when_threshold_reached_then_match_a_pandas_grouping(ibm_trades, builder, weight,
                                                                                   threshold) -> None:
    ours = _run(builder(), ibm_trades)
    expected = _expected_bars(ibm_trades, weight(ibm_trades), threshold).reset_index(drop=True)
    assert len(ours) == len(expected) > 10
    for column in ("open", "high", "low", "close", "volume", "trade_count", "start_ns", "end_ns"):
        np.testing.assert_array_equal(ours[column].to_numpy(), expected[column].to_numpy(), err_msg=column)
    np.testing.assert_allclose(ours["vwap"].to_numpy(), expected["vwap"].to_numpy(), rtol=1e-12)


def test_update_when_sides_are_known_then_buy_and_sell_volume_split() -> None:
    builder = TickBarBuilder(ticks_per_bar=3)
    builder.update(1, 10.0, 100.0, "buy")
    builder.update(2, 10.1, 50.0, "sell")
    bar = builder.update(3, 10.2, 25.0, "unknown")
    assert (bar.buy_volume, bar.sell_volume, bar.volume) == (100.0, 50.0, 175.0)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True])
def test_constructor_when_threshold_is_not_positive_finite_then_names_the_value(bad) -> None:
    with pytest.raises(ValueError, match="volume_per_bar"):
        VolumeBarBuilder(volume_per_bar=bad)
