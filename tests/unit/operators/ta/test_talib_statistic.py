"""TA-Lib's statistic functions, fed one bar at a time, match ``talib`` on real bars."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from operators.ta.indicators.statistic import (
    TALIB_FUNCTIONS,
    Correlation,
    LinearRegressionSlope,
    PercentRank,
    RollingPercentile,
    Variance,
)
from tests.unit.operators.ta.talib_parity import assert_matches_talib_on, assert_parity, parity_cases

NON_DEFAULT_PARAMETERS: dict[str, dict[str, float]] = {
    "BETA": {"timeperiod": 20},
    "CORREL": {"timeperiod": 10},
    "LINEARREG": {"timeperiod": 30},
    "LINEARREG_ANGLE": {"timeperiod": 30},
    "LINEARREG_INTERCEPT": {"timeperiod": 30},
    "LINEARREG_SLOPE": {"timeperiod": 30},
    "PERCENTILE": {"timeperiod": 30, "percentile": 70.0},
    "PERCENTRANK": {"timeperiod": 20},
    "STDDEV": {"timeperiod": 20, "nbdev": 2.0},
    "TSF": {"timeperiod": 30},
    "VAR": {"timeperiod": 20, "nbdev": 2.0},
}


def test_every_statistic_function_is_listed() -> None:
    assert set(TALIB_FUNCTIONS) == set(NON_DEFAULT_PARAMETERS)


@pytest.mark.parametrize(("name", "params", "series"), parity_cases(TALIB_FUNCTIONS, NON_DEFAULT_PARAMETERS))
def test_matches_talib_bar_by_bar(name: str, params: dict[str, object], series: str) -> None:
    assert_parity(name, TALIB_FUNCTIONS[name], params, series=series)


def degenerate_bars() -> dict[str, np.ndarray]:
    """Flat stretches, ties, a zero price and a spike: the guards and the re-anchoring."""
    close = np.array([5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 0.0, 2.0, 2.0, 3.0, 3.0, 3.0, 1e6, 3.0, 3.0, 3.0, 3.0, 3.0,
                      4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.5, 4.25, 4.0, 4.0, 4.0, 4.0])
    return {"close": close, "high": close + np.where(np.arange(close.size) % 4 == 0, 0.5, 0.0), "low": close}


SMALL_PARAMETERS: dict[str, dict[str, float]] = {
    name: {"timeperiod": 4, **({"percentile": 25.0} if name == "PERCENTILE" else {})}
    for name in NON_DEFAULT_PARAMETERS
}


@pytest.mark.parametrize("name", sorted(TALIB_FUNCTIONS))
def test_degenerate_bars_get_talibs_guarded_values(name: str) -> None:
    assert_matches_talib_on(name, TALIB_FUNCTIONS[name], degenerate_bars(), SMALL_PARAMETERS[name], tolerance=1e-9)


def test_variance_ignores_nbdev_as_talib_does() -> None:
    plain, scaled = Variance(timeperiod=3), Variance(timeperiod=3, nbdev=3.0)
    for close in [1.0, 4.0, 2.0]:
        plain.update(close)
        scaled.update(close)
    assert plain.value == scaled.value == pytest.approx(14.0 / 9.0)


def test_variance_of_a_window_at_a_bitcoin_price_keeps_its_digits() -> None:
    variance = Variance(timeperiod=5)
    for close in [46377.0, 46411.0, 46425.0, 46420.0, 46427.0, 46430.0, 46431.0]:
        variance.update(close)
    window = np.array([46425.0, 46420.0, 46427.0, 46430.0, 46431.0])
    assert variance.value == pytest.approx(window.var(), rel=1e-13)


def test_correlation_of_a_flat_series_is_zero() -> None:
    correlation = Correlation(timeperiod=3)
    for high, low in [(2.0, 1.0), (2.0, 3.0), (2.0, 5.0)]:
        correlation.update(high, low)
    assert correlation.ready and correlation.value == 0.0


def test_percentile_is_the_nearest_rank_order_statistic() -> None:
    percentile = RollingPercentile(timeperiod=5, percentile=40.0)
    for close in [9.0, 1.0, 7.0, 3.0, 5.0]:
        percentile.update(close)
    assert percentile.value == 3.0


def test_percent_rank_counts_only_the_previous_bars_strictly_below() -> None:
    rank = PercentRank(timeperiod=4)
    for close in [2.0, 2.0, 1.0, 5.0, 2.0]:
        rank.update(close)
    assert rank.value == 25.0


def test_ready_flips_exactly_at_talibs_lookback() -> None:
    slope, rank = LinearRegressionSlope(timeperiod=3), PercentRank(timeperiod=3)
    for bar in range(5):
        slope.update(float(bar))
        rank.update(float(bar))
        assert slope.ready == (bar >= 2) and rank.ready == (bar >= 3)
        assert math.isnan(rank.value) != rank.ready



@pytest.mark.parametrize("level", [0.1, 167.41, 46377.5])
@pytest.mark.parametrize("name", sorted(TALIB_FUNCTIONS))
def test_a_flat_window_gives_exactly_talibs_value(name: str, level: float) -> None:
    flat = np.full(40, level)
    bars = {"close": flat, "high": flat, "low": flat}
    assert_matches_talib_on(name, TALIB_FUNCTIONS[name], bars, SMALL_PARAMETERS[name], tolerance=0.0)


@pytest.mark.parametrize(("name", "params", "message"), [
    ("STDDEV", {"timeperiod": 1}, "StandardDeviation timeperiod must be an integer in [2, 100000], got 1"),
    ("LINEARREG", {"timeperiod": 100_001}, "LinearRegression timeperiod must be an integer in [2, 100000], got 100001"),
    ("VAR", {"timeperiod": 2.5}, "Variance timeperiod must be an integer in [1, 100000], got 2.5"),
    ("STDDEV", {"nbdev": math.inf}, "StandardDeviation nbdev must be a number in [-3e+37, 3e+37], got inf"),
    ("PERCENTILE", {"percentile": 101.0}, "RollingPercentile percentile must be a number in [0, 100], got 101.0"),
    ("PERCENTRANK", {"timeperiod": True}, "PercentRank timeperiod must be an integer in [2, 100000], got True"),
])
def test_bad_settings_are_rejected_naming_the_indicator_the_setting_and_the_value(
        name: str, params: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        TALIB_FUNCTIONS[name](**params)
