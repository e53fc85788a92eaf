"""Liquidity estimators and realized variance on real IBM ticks, against direct recomputation.

The streaming estimators update O(1) per observation; the references below recompute each
window from scratch with numpy, which is what a batch research notebook would do.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from operators.features.bars import TimeBarBuilder
from operators.features.liquidity import AmihudIlliquidity, KyleLambda, LaggedMid, QuoteStaleness, RollSpread
from operators.features.realized_variance import RealizedVariance

MARKET = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "market"


@pytest.fixture(scope="module")
def ibm_trades() -> pd.DataFrame:
    frame = pd.read_csv(MARKET / "trades.csv.gz", nrows=600_000)
    return frame[frame["symbol"] == "IBM"].reset_index(drop=True)


@pytest.fixture(scope="module")
def ibm_quotes() -> pd.DataFrame:
    frame = pd.read_csv(MARKET / "quotes.csv.gz", nrows=300_000)
    return frame[frame["symbol"] == "IBM"].reset_index(drop=True)


@pytest.fixture(scope="module")
def ibm_minute_bars(ibm_trades: pd.DataFrame) -> list:
    builder = TimeBarBuilder(60_000_000_000)
    bars = []
    for ts_ns, price, size in zip(ibm_trades["ts_ns"], ibm_trades["price"], ibm_trades["size"]):
        bar = builder.update(int(ts_ns), float(price), float(size), "unknown")
        if bar is not None:
            bars.append(bar)
    return bars


def test_roll_spread_on_real_trades_equals_the_windowed_serial_covariance(ibm_trades: pd.DataFrame) -> None:
    prices = ibm_trades["price"].to_numpy(float)[:3000]
    roll = RollSpread(window=200)
    ours = []
    for price in prices:
        roll.update(float(price))
        ours.append(roll.value)
    changes = np.diff(prices)
    for end in range(250, len(prices), 137):
        current = changes[end - 200:end]
        lagged = changes[end - 201:end - 1]
        covariance = np.mean(current * lagged) - current.mean() * lagged.mean()
        expected = 2 * math.sqrt(-covariance) if covariance < 0 else math.nan
        got = ours[end]
        assert (math.isnan(expected) and math.isnan(got)) or got == pytest.approx(expected, rel=1e-9), end
    assert any(value == value for value in ours), "Roll's spread never defined on real IBM trades"


def test_kyle_lambda_on_real_bars_equals_the_ols_slope(ibm_minute_bars: list) -> None:
    rng = np.random.default_rng(7)
    signed = rng.normal(0, 1000, len(ibm_minute_bars))  # real prices, seeded order flow
    kyle = KyleLambda(window=30)
    closes = np.array([bar.close for bar in ibm_minute_bars])
    values = []
    for bar, flow in zip(ibm_minute_bars, signed):
        kyle.update(bar.close, float(flow))
        values.append(kyle.value)
    for end in (40, 100, len(closes) - 1):
        change = np.diff(closes[end - 30:end + 1])
        flow = signed[end - 29:end + 1]
        slope = np.polyfit(flow, change, 1)[0]
        assert values[end] == pytest.approx(slope, rel=1e-7)


def test_amihud_on_real_bars_equals_mean_abs_return_per_million(ibm_minute_bars: list) -> None:
    amihud = AmihudIlliquidity(window=20)
    for bar in ibm_minute_bars[:61]:
        amihud.update(bar.close, bar.vwap * bar.volume)
    window = ibm_minute_bars[40:61]
    terms = [abs(math.log(b.close / a.close)) / (b.vwap * b.volume) * 1e6 for a, b in zip(window, window[1:])]
    assert amihud.value == pytest.approx(np.mean(terms), rel=1e-12)


def test_realized_variance_on_real_bars_equals_the_textbook_formulas(ibm_minute_bars: list) -> None:
    window = 30
    estimator = RealizedVariance(window=window)
    for bar in ibm_minute_bars[:window + 1]:
        estimator.update(bar.open, bar.high, bar.low, bar.close)
    bars = ibm_minute_bars[1:window + 1]
    o = np.array([b.open for b in bars]); h = np.array([b.high for b in bars])
    low = np.array([b.low for b in bars]); c = np.array([b.close for b in bars])
    previous_close = np.array([b.close for b in ibm_minute_bars[:window]])
    parkinson = np.mean(np.log(h / low) ** 2) / (4 * math.log(2))
    garman_klass = np.mean(0.5 * np.log(h / low) ** 2 - (2 * math.log(2) - 1) * np.log(c / o) ** 2)
    rogers_satchell = np.mean(np.log(h / c) * np.log(h / o) + np.log(low / c) * np.log(low / o))
    close_to_close = np.mean(np.log(c / previous_close) ** 2)
    k = 0.34 / (1.34 + (window + 1) / (window - 1))
    yang_zhang = (np.var(np.log(o / previous_close), ddof=1) + k * np.var(np.log(c / o), ddof=1)
                  + (1 - k) * rogers_satchell)
    assert estimator.parkinson == pytest.approx(parkinson, rel=1e-9)
    assert estimator.garman_klass == pytest.approx(garman_klass, rel=1e-9)
    assert estimator.rogers_satchell == pytest.approx(rogers_satchell, rel=1e-9)
    assert estimator.close_to_close == pytest.approx(close_to_close, rel=1e-9)
    assert estimator.yang_zhang == pytest.approx(yang_zhang, rel=1e-9)


def test_realized_variance_when_window_not_full_then_not_ready() -> None:
    estimator = RealizedVariance(window=5)
    estimator.update(10.0, 10.5, 9.5, 10.2)
    assert not estimator.ready and math.isnan(estimator.yang_zhang) and math.isnan(estimator.parkinson)


def test_quote_staleness_on_real_quotes_counts_from_the_last_price_change(ibm_quotes: pd.DataFrame) -> None:
    staleness = QuoteStaleness()
    quotes = ibm_quotes.head(2000)
    last_change = None
    previous = (math.nan, math.nan)
    for ts_ns, bid, ask in zip(quotes["ts_ns"], quotes["bid"], quotes["ask"]):
        staleness.update(int(ts_ns), float(bid), float(ask))
        if (bid, ask) != previous:
            last_change, previous = int(ts_ns), (bid, ask)
    now = int(quotes["ts_ns"].iloc[-1]) + 5_000_000_000
    assert staleness.seconds(now) == pytest.approx((now - last_change) / 1e9)
    assert staleness.seconds(now) >= 5.0


def test_lagged_mid_on_real_quotes_uses_the_quote_in_force_lag_before_the_trade(ibm_quotes: pd.DataFrame) -> None:
    quotes = ibm_quotes.head(3000)
    lagged = LaggedMid(lag_ns=1_000_000_000)
    stamps = quotes["ts_ns"].to_numpy()
    mids = ((quotes["bid"] + quotes["ask"]) / 2).to_numpy()
    cursor = 0
    for query in range(int(stamps[10]), int(stamps[-1]), 7_919_000_000):
        while cursor < len(stamps) and stamps[cursor] <= query:
            lagged.update(int(stamps[cursor]), float(quotes["bid"].iloc[cursor]), float(quotes["ask"].iloc[cursor]))
            cursor += 1
        in_force = np.searchsorted(stamps, query - 1_000_000_000, side="right") - 1
        expected = mids[in_force] if in_force >= 0 else math.nan
        assert lagged.mid_at(query) == pytest.approx(expected)


@pytest.mark.parametrize("factory", [lambda: KyleLambda(window=2), lambda: RollSpread(window=1),
                                     lambda: AmihudIlliquidity(window=0), lambda: RealizedVariance(window=1),
                                     lambda: LaggedMid(lag_ns=-1)])
def test_constructors_when_window_too_small_then_raise_naming_the_value(factory) -> None:
    with pytest.raises(ValueError, match="must be an integer"):
        factory()
