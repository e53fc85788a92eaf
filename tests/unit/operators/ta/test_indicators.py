"""Specifications of EWMA volatility, checked bar by bar against pandas on real data.

(EMA, RSI, MACD, Bollinger bands and ATR are the catalogue's; their parity tests are in
``test_talib_*.py``.)"""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from operators.ta.indicators import EwmaVolatility, Indicator

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


def test_ewma_volatility_matches_pandas_ewm_of_squared_log_returns(daily_bars: pd.DataFrame) -> None:
    closes = daily_bars["close"].to_numpy(float)
    squared = pd.Series(np.log(closes)).diff() ** 2
    warmup = 17  # ceil(1 / (1 - 0.94))
    expected = np.sqrt(squared.iloc[1:].ewm(alpha=1 - 0.94, adjust=True, min_periods=warmup).mean()).to_numpy()
    expected = np.concatenate([[np.nan], expected])
    values, ready = run_closes(EwmaVolatility(lambda_=0.94), closes)
    assert_matches_talib(values, ready, expected)


def test_reset_forgets_and_pickle_round_trip_continues_identically(daily_bars: pd.DataFrame) -> None:
    closes = [float(close) for close in daily_bars["close"].to_numpy()[:300]]
    indicator = EwmaVolatility()
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
        (lambda: EwmaVolatility(1.0), "EwmaVolatility lambda_ must be a number strictly between 0 and 1, got 1.0"),
        (lambda: EwmaVolatility(0.94, 0), "EwmaVolatility warmup_returns must be None or an integer >= 1, got 0"),
    ],
)
def test_invalid_settings_are_rejected_naming_the_bad_value(factory, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        factory()
