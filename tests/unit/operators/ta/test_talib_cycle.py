"""TA-Lib's Hilbert-transform cycle indicators (and HT_TRENDLINE, MAMA), fed one bar at a time, match ``talib``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from operators.ta.indicators.cycle import (
    TALIB_FUNCTIONS,
    HilbertDominantCyclePeriod,
    HilbertTransform,
    HilbertTrendMode,
    MesaAdaptiveMovingAverage,
)
from tests.unit.operators.ta.talib_parity import assert_matches_talib_on, assert_parity, assert_refused, parity_cases

NON_DEFAULT_PARAMETERS: dict[str, dict[str, float]] = {"MAMA": {"fastlimit": 0.3, "slowlimit": 0.1}}


def test_every_cycle_function_is_listed() -> None:
    assert set(TALIB_FUNCTIONS) == {
        "HT_DCPERIOD", "HT_DCPHASE", "HT_PHASOR", "HT_SINE", "HT_TRENDMODE", "HT_TRENDLINE", "MAMA"}


@pytest.mark.parametrize(("name", "params", "series"), parity_cases(TALIB_FUNCTIONS, NON_DEFAULT_PARAMETERS))
def test_matches_talib_bar_by_bar(name: str, params: dict[str, object], series: str) -> None:
    assert_parity(name, TALIB_FUNCTIONS[name], params, series=series)


@pytest.mark.parametrize("name", sorted(TALIB_FUNCTIONS))
def test_flat_then_stepped_closes_take_talibs_degenerate_branches(name: str) -> None:
    close = np.concatenate([np.full(80, 50.0), np.full(40, 51.0), 51.0 + np.arange(40.0) % 3])
    assert_matches_talib_on(name, TALIB_FUNCTIONS[name], {"close": close}, tolerance=1e-9)


def test_mama_value_is_the_mama_line_and_fama_follows_it() -> None:
    mama = MesaAdaptiveMovingAverage()
    for bar in range(40):
        mama.update(100.0 + bar % 7)
    assert mama.value == mama.values[0]
    assert mama.values[1] != mama.values[0]


def test_ready_flips_exactly_at_talibs_lookback() -> None:
    period = HilbertDominantCyclePeriod()
    trend_mode = HilbertTrendMode()
    for bar in range(64):
        period.update(100.0 + bar % 5)
        trend_mode.update(100.0 + bar % 5)
        assert period.ready == (bar >= 32)
        assert trend_mode.ready == (bar >= 63)
        assert math.isnan(period.value) != period.ready


def test_trend_mode_reads_zero_during_warm_up_as_talib_does() -> None:
    indicator = HilbertTrendMode()
    indicator.update(100.0)
    assert not indicator.ready and indicator.values == (0.0,)


def test_reset_forgets_everything_learned() -> None:
    used, fresh = MesaAdaptiveMovingAverage(fastlimit=0.4), MesaAdaptiveMovingAverage(fastlimit=0.4)
    for bar in range(50):
        used.update(90.0 + bar)
    used.reset()
    for bar in range(40):
        used.update(100.0 + bar % 7)
        fresh.update(100.0 + bar % 7)
    assert used.values == fresh.values


@pytest.mark.parametrize(("settings", "message"), [
    ({"fastlimit": 1.5}, "MesaAdaptiveMovingAverage fastlimit must be a number in [0.01, 0.99], got 1.5"),
    ({"slowlimit": 0.0}, "MesaAdaptiveMovingAverage slowlimit must be a number in [0.01, 0.99], got 0.0"),
    ({"fastlimit": "fast"}, "MesaAdaptiveMovingAverage fastlimit must be a number in [0.01, 0.99], got 'fast'"),
])
def test_mama_rejects_limits_outside_talibs_range_naming_the_value(settings: dict[str, object], message: str) -> None:
    assert_refused(MesaAdaptiveMovingAverage, settings, message)


def test_hilbert_core_rejects_a_start_before_the_price_smoother_is_primed() -> None:
    assert_refused(HilbertTransform, {"first_bar": 2}, "HilbertTransform first_bar must be an integer >= 3, got 2")
