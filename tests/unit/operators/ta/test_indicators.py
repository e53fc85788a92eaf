"""Specifications of the incremental indicators, checked bar by bar against TA-Lib on real data."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib

from operators.ta.indicators import (
    AverageTrueRange,
    BollingerPercentB,
    EwmaVolatility,
    ExponentialMovingAverage,
    Indicator,
    MovingAverageConvergenceDivergence,
    RelativeStrengthIndex,
)
from operators.ta.indicators import bollinger

RELATIVE_TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def daily_bars(market_data: Path) -> pd.DataFrame:
    """Raw daily IBM bars 1998-2021 (about 6,000 bars)."""
    bars = pd.read_csv(market_data / "bars" / "bars_daily_us_equities_1998_2021.csv.gz")
    ibm = bars[bars["symbol"] == "IBM"].sort_values("date").reset_index(drop=True)
    assert len(ibm) > 5000
    return ibm


def assert_matches_talib(ours: list[float], ready: list[bool], expected: np.ndarray) -> None:
    ours_array = np.asarray(ours)
    expected_nan = np.isnan(expected)
    assert np.array_equal(~np.asarray(ready), expected_nan), "ready must be False exactly where TA-Lib gives NaN"
    assert np.isnan(ours_array[expected_nan]).all(), "value must be NaN until ready"
    good = ~expected_nan
    error = np.abs(ours_array[good] - expected[good])
    bound = RELATIVE_TOLERANCE * np.maximum(1.0, np.abs(expected[good]))
    worst = int(np.argmax(error / bound))
    assert (error <= bound).all(), f"worst bar {worst}: ours {ours_array[good][worst]!r} vs TA-Lib {expected[good][worst]!r}"


def run_closes(indicator: object, closes: np.ndarray, read: str = "value") -> tuple[list[float], list[bool]]:
    values, ready = [], []
    for close in closes:
        indicator.update(float(close))
        values.append(getattr(indicator, read))
        ready.append(indicator.ready)
    return values, ready


@pytest.mark.parametrize("period", [1, 5, 30])
def test_ema_matches_talib_on_ibm_daily_closes(daily_bars: pd.DataFrame, period: int) -> None:
    closes = daily_bars["close"].to_numpy(float)
    values, ready = run_closes(ExponentialMovingAverage(period), closes)
    assert_matches_talib(values, ready, talib.EMA(closes, timeperiod=period))


@pytest.mark.parametrize("period", [2, 14])
def test_rsi_matches_talib_on_ibm_daily_closes(daily_bars: pd.DataFrame, period: int) -> None:
    closes = daily_bars["close"].to_numpy(float)
    values, ready = run_closes(RelativeStrengthIndex(period), closes)
    assert_matches_talib(values, ready, talib.RSI(closes, timeperiod=period))


@pytest.mark.parametrize("line", ["value", "signal", "histogram"])
def test_macd_matches_talib_including_fast_ema_alignment(daily_bars: pd.DataFrame, line: str) -> None:
    closes = daily_bars["close"].to_numpy(float)
    macd, signal, histogram = talib.MACD(closes, fastperiod=12, slowperiod=26, signalperiod=9)
    expected = {"value": macd, "signal": signal, "histogram": histogram}[line]
    values, ready = run_closes(MovingAverageConvergenceDivergence(12, 26, 9), closes, read=line)
    assert_matches_talib(values, ready, expected)


@pytest.mark.parametrize("read", ["value", "middle", "upper", "lower"])
def test_bollinger_matches_talib_bbands_and_percent_b(daily_bars: pd.DataFrame, read: str) -> None:
    closes = daily_bars["close"].to_numpy(float)
    upper, middle, lower = talib.BBANDS(closes, timeperiod=20, nbdevup=2.0, nbdevdn=2.0, matype=0)
    expected = {"value": (closes - lower) / (upper - lower), "middle": middle, "upper": upper, "lower": lower}[read]
    values, ready = run_closes(BollingerPercentB(period=20, width=2.0), closes, read=read)
    assert_matches_talib(values, ready, expected)


def test_bollinger_stays_exact_across_resyncs_on_a_long_drifting_series() -> None:
    """Many resync cycles of a series with a large level and small moves (worst case for drift)."""
    rng = np.random.default_rng(7)
    closes = 1e5 + np.cumsum(rng.normal(0.0, 0.01, 20 * bollinger.RESYNC_INTERVAL))
    upper, middle, lower = talib.BBANDS(closes, timeperiod=20, nbdevup=2.0, nbdevdn=2.0, matype=0)
    values, ready = run_closes(BollingerPercentB(20, 2.0), closes, read="middle")
    assert_matches_talib(values, ready, middle)
    values, ready = run_closes(BollingerPercentB(20, 2.0), closes, read="upper")
    assert_matches_talib(values, ready, upper)


def test_bollinger_percent_b_is_nan_not_inf_when_the_window_is_flat() -> None:
    bands = BollingerPercentB(period=3)
    for close in [5.0, 5.0, 5.0]:
        bands.update(close)
    assert bands.ready and math.isnan(bands.value)


@pytest.mark.parametrize("period", [1, 14])
def test_atr_matches_talib_skipping_the_first_true_range(daily_bars: pd.DataFrame, period: int) -> None:
    high, low, close = (daily_bars[column].to_numpy(float) for column in ("high", "low", "close"))
    atr = AverageTrueRange(period)
    values, ready = [], []
    for bar_high, bar_low, bar_close in zip(high, low, close):
        atr.update(float(bar_high), float(bar_low), float(bar_close))
        values.append(atr.value)
        ready.append(atr.ready)
    assert_matches_talib(values, ready, talib.ATR(high, low, close, timeperiod=period))


def test_ewma_volatility_matches_pandas_ewm_of_squared_log_returns(daily_bars: pd.DataFrame) -> None:
    closes = daily_bars["close"].to_numpy(float)
    squared = pd.Series(np.log(closes)).diff() ** 2
    warmup = 17  # ceil(1 / (1 - 0.94))
    expected = np.sqrt(squared.iloc[1:].ewm(alpha=1 - 0.94, adjust=True, min_periods=warmup).mean()).to_numpy()
    expected = np.concatenate([[np.nan], expected])
    values, ready = run_closes(EwmaVolatility(lambda_=0.94), closes)
    assert_matches_talib(values, ready, expected)


@pytest.mark.parametrize(
    "factory",
    [
        lambda: ExponentialMovingAverage(10),
        lambda: RelativeStrengthIndex(14),
        lambda: MovingAverageConvergenceDivergence(),
        lambda: BollingerPercentB(),
        lambda: EwmaVolatility(),
    ],
)
def test_reset_forgets_and_pickle_round_trip_continues_identically(daily_bars: pd.DataFrame, factory) -> None:
    closes = [float(close) for close in daily_bars["close"].to_numpy()[:300]]
    indicator = factory()
    assert isinstance(indicator, Indicator)
    for close in closes[:150]:
        indicator.update(close)
    copy = pickle.loads(pickle.dumps(indicator))
    for close in closes[150:]:
        indicator.update(close)
        copy.update(close)
        assert indicator.value == copy.value
    indicator.reset()
    assert not indicator.ready and math.isnan(indicator.value)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: ExponentialMovingAverage(0), "period must be an integer >= 1, got 0"),
        (lambda: RelativeStrengthIndex(1), "period must be an integer >= 2, got 1"),
        (lambda: MovingAverageConvergenceDivergence(26, 12), "fast_period must be < slow_period"),
        (lambda: BollingerPercentB(20, -2.0), "got -2.0"),
        (lambda: AverageTrueRange(14.5), "got 14.5"),
        (lambda: EwmaVolatility(1.0), "EwmaVolatility lambda_ must be a number strictly between 0 and 1, got 1.0"),
        (lambda: EwmaVolatility(0.94, 0), "EwmaVolatility warmup_returns must be None or an integer >= 1, got 0"),
    ],
)
def test_invalid_settings_are_rejected_naming_the_bad_value(factory, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        factory()
