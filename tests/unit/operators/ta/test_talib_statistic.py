"""TA-Lib's statistic functions, fed one bar at a time, match ``talib`` on real bars."""

from __future__ import annotations

import math

import numpy as np
import pytest
from talib import abstract

from operators.ta.indicators.statistic import (
    TALIB_FUNCTIONS,
    Correlation,
    LinearRegressionSlope,
    PercentRank,
    RollingPercentile,
    StandardDeviation,
    Variance,
)
from tests.unit.operators.ta.talib_parity import assert_parity, stream, talib_outputs

SERIES = ("ibm_daily", "spy_hourly", "btc_minute")

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


@pytest.mark.parametrize("name", sorted(TALIB_FUNCTIONS))
def test_constructor_takes_talibs_parameters_with_talibs_defaults(name: str) -> None:
    indicator = TALIB_FUNCTIONS[name]()
    for parameter, default in abstract.Function(name).parameters.items():
        assert getattr(indicator, parameter) == default


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize("name", sorted(TALIB_FUNCTIONS))
def test_default_parameters_match_talib_bar_by_bar(name: str, series: str) -> None:
    assert_parity(name, TALIB_FUNCTIONS[name], series=series)


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize("name", sorted(TALIB_FUNCTIONS))
def test_non_default_parameters_match_talib_bar_by_bar(name: str, series: str) -> None:
    assert_parity(name, TALIB_FUNCTIONS[name], NON_DEFAULT_PARAMETERS[name], series=series)


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
    bars = degenerate_bars()
    params = SMALL_PARAMETERS[name]
    expected = talib_outputs(name, bars, params)
    ours = stream(TALIB_FUNCTIONS[name](**params), bars)
    np.testing.assert_allclose(ours[:, 0], expected[0], rtol=1e-9, atol=1e-9, equal_nan=True)


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


def test_reset_forgets_everything_learned() -> None:
    used, fresh = StandardDeviation(timeperiod=3), StandardDeviation(timeperiod=3)
    for close in [10.0, 30.0, 20.0, 50.0]:
        used.update(close)
    used.reset()
    assert not used.ready
    for close in [1.0, 2.0, 4.0]:
        used.update(close)
        fresh.update(close)
    assert used.values == fresh.values


@pytest.mark.parametrize(("name", "params", "bad"), [
    ("STDDEV", {"timeperiod": 1}, "1"),
    ("LINEARREG", {"timeperiod": 100_001}, "100001"),
    ("VAR", {"timeperiod": 2.5}, "2.5"),
    ("STDDEV", {"nbdev": math.inf}, "inf"),
    ("PERCENTILE", {"percentile": 101.0}, "101.0"),
    ("PERCENTRANK", {"timeperiod": True}, "True"),
])
def test_bad_settings_are_rejected_naming_the_value(name: str, params: dict[str, object], bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        TALIB_FUNCTIONS[name](**params)
