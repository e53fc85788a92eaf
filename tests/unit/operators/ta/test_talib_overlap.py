"""Overlap studies match TA-Lib's batch functions bar for bar on real series."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np
import pytest
import talib

from operators.ta.indicators import overlap, overlap_bands, overlap_stops
from operators.ta.indicators.overlap import moving_average
from tests.unit.operators.ta.talib_parity import SERIES, assert_matches_talib_on, assert_parity, real_bars

CASES = [
    ("SMA", {}), ("SMA", {"timeperiod": 7}), ("SMA", {"timeperiod": 1}),
    ("EMA", {}), ("EMA", {"timeperiod": 7}), ("EMA", {"timeperiod": 1}),
    ("WMA", {}), ("WMA", {"timeperiod": 7}), ("WMA", {"timeperiod": 2}),
    ("DEMA", {}), ("DEMA", {"timeperiod": 7}),
    ("TEMA", {}), ("TEMA", {"timeperiod": 7}),
    ("TRIMA", {}), ("TRIMA", {"timeperiod": 7}), ("TRIMA", {"timeperiod": 2}),
    ("KAMA", {}), ("KAMA", {"timeperiod": 7}),
    ("T3", {}), ("T3", {"timeperiod": 7, "vfactor": 0.3}),
    ("RMA", {}), ("RMA", {"timeperiod": 7}),
    ("ZLEMA", {}), ("ZLEMA", {"timeperiod": 8}), ("ZLEMA", {"timeperiod": 2}),
    ("HMA", {}), ("HMA", {"timeperiod": 9}), ("HMA", {"timeperiod": 3}),
    ("VWMA", {}), ("VWMA", {"timeperiod": 7}),
    ("MA", {}),
    *[("MA", {"timeperiod": 9, "matype": matype}) for matype in (0, 1, 2, 3, 4, 5, 6, 8)],
    ("MA", {"timeperiod": 9, "matype": 7}), ("MA", {"timeperiod": 1, "matype": 7}),
    ("MAVP", {}), ("MAVP", {"minperiod": 5, "maxperiod": 12, "matype": 1}),
    ("MAVP", {"minperiod": 3, "maxperiod": 9, "matype": 6}),
    ("BBANDS", {}), ("BBANDS", {"timeperiod": 10, "nbdevup": 1.5, "nbdevdn": 2.5, "matype": 1}),
    ("BBANDS", {"timeperiod": 5, "nbdevup": 1.0, "nbdevdn": 1.0, "matype": 3}),
    ("BBANDS", {"timeperiod": 2, "nbdevup": -1.0, "nbdevdn": 0.5, "matype": 0}),  # flat two-bar windows
    ("BBANDS", {"timeperiod": 40, "matype": 7}), ("BBANDS", {"timeperiod": 9, "matype": 7}),
    ("ACCBANDS", {}), ("ACCBANDS", {"timeperiod": 7}),
    ("DONCHIAN", {}), ("DONCHIAN", {"timeperiod": 7}),
    ("KC", {}), ("KC", {"timeperiod": 5, "atrperiod": 14, "nbdev": 1.5}),
    ("MIDPOINT", {}), ("MIDPOINT", {"timeperiod": 5}),
    ("MIDPRICE", {}), ("MIDPRICE", {"timeperiod": 5}),
    ("SAR", {}), ("SAR", {"acceleration": 0.05, "maximum": 0.3}),
    ("SAREXT", {}),
    ("SAREXT", {"startvalue": 0.0, "offsetonreverse": 0.01, "accelerationinitlong": 0.01, "accelerationlong": 0.03,
                "accelerationmaxlong": 0.25, "accelerationinitshort": 0.03, "accelerationshort": 0.01,
                "accelerationmaxshort": 0.15}),
    ("SUPERTREND", {}), ("SUPERTREND", {"timeperiod": 7, "multiplier": 1.5}),
]

FUNCTIONS = {**overlap.TALIB_FUNCTIONS, **overlap_bands.TALIB_FUNCTIONS, **overlap_stops.TALIB_FUNCTIONS}


def case_id(case: tuple[str, dict[str, object]]) -> str:
    name, params = case
    return name + "".join(f"-{key}={value}" for key, value in params.items())


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize(("name", "params"), CASES, ids=[case_id(case) for case in CASES])
def test_streamed_values_match_talib_on_real_bars(name: str, params: dict[str, object], series: str) -> None:
    assert_parity(name, FUNCTIONS[name], params, series)


def test_every_overlap_study_is_listed() -> None:
    expected = {"ACCBANDS", "BBANDS", "DEMA", "DONCHIAN", "EMA", "HMA", "KAMA", "KC", "MA", "MAVP", "MIDPOINT",
                "MIDPRICE", "RMA", "SAR", "SAREXT", "SMA", "SUPERTREND", "T3", "TEMA", "TRIMA", "VWMA", "WMA", "ZLEMA"}
    assert set(FUNCTIONS) == expected
    assert {name for name, _ in CASES} == expected


@pytest.mark.parametrize("level", [0.1, 167.41, 46377.5])
@pytest.mark.parametrize("name", sorted(set(FUNCTIONS) - {"T3"}))
def test_a_flat_window_gives_exactly_talibs_value(name: str, level: float) -> None:
    """Constant bars: every study equals TA-Lib to the bit (zero deviations, exact averages).

    T3 is left out: its six chained EMAs round a few ulps away from TA-Lib's (within the parity
    tolerance), flat window or not.
    """
    flat = np.full(120, level)
    bars = {"open": flat, "high": flat, "low": flat, "close": flat, "volume": np.full(120, 100.0),
            "periods": np.full(120, 5.0)}
    assert_matches_talib_on(name, FUNCTIONS[name], bars, tolerance=0.0)


def _near_zero_kama_inputs() -> dict[str, np.ndarray]:
    """Series whose KAMA path ``sum |x - x[-1]|`` sits at or a hair above zero, as on SPY seconds."""
    rng = np.random.default_rng(20131007)
    steps = rng.choice([0.0, 0.0, 0.0, 0.0, 1e-15, -1e-15, 3.6e-15], 400)
    fast_k, _ = talib.STOCHRSI(real_bars("spy_second")["close"], timeperiod=9, fastk_period=6, fastd_period=4)
    return {
        # mostly-equal values moving by 1e-15 steps, then long flat stretches
        "tiny_steps": np.concatenate([0.5 + np.cumsum(steps), np.full(60, 0.5), 0.5 + np.cumsum(steps[::-1])]),
        # STOCHRSI's %K shape: exact zeros with a lone 3.6e-15 (a path below TA_IS_ZERO's 1e-14)
        "zero_then_residue": np.concatenate([np.zeros(35), [3.6e-15], np.zeros(12), [3.6e-15, 0.0, 1e-15],
                                             np.zeros(40), [100.0, 100.0, 3.6e-15], np.zeros(35)]),
        # the real one, leading NaNs dropped: STOCHRSI(9, 6, 4)'s fast %K on the SPY one-second bars
        "spy_second_stochrsi_fast_k": fast_k[~np.isnan(fast_k)],
    }


NEAR_ZERO_KAMA_INPUTS = _near_zero_kama_inputs()


@pytest.mark.parametrize("timeperiod", [2, 3, 9, 30])
@pytest.mark.parametrize("series", sorted(NEAR_ZERO_KAMA_INPUTS))
def test_kama_on_near_zero_paths_is_talibs_bit_for_bit(series: str, timeperiod: int) -> None:
    """TA-Lib 0.8's KAMA reads any positive path as a path (no 1e-14 band), takes ratio 1 when the
    path is not positive or the signed change reaches it, and fuses its multiply-adds: equal to the bit."""
    close = np.ascontiguousarray(NEAR_ZERO_KAMA_INPUTS[series], dtype=np.float64)
    expected = talib.KAMA(close, timeperiod=timeperiod)
    average = overlap.KaufmanAdaptiveMovingAverage(timeperiod=timeperiod)
    ours = np.empty(len(close))
    for index, value in enumerate(close):
        average.update(float(value))
        ours[index] = average.value
    differing = np.flatnonzero(~((ours == expected) | (np.isnan(ours) & np.isnan(expected))))
    assert differing.size == 0, (
        f"KAMA({timeperiod}) on {series}: {differing.size} bars differ, first at bar {differing[0]}: "
        f"talib {expected[differing[0]]!r}, ours {ours[differing[0]]!r}")


def test_kama_fused_multiply_add_rounds_once() -> None:
    rng = np.random.default_rng(7)
    values = rng.uniform(-1.0, 1.0, (3000, 3)) * 10.0 ** rng.integers(-20, 20, (3000, 3))
    for a, b, c in values.tolist() + [[0.1, 10.0, -1.0], [3.6e-15, 0.44444444444444425, 1e-15]]:
        exact = Fraction(a) * Fraction(b) + Fraction(c)
        assert overlap._fused_multiply_add(a, b, c) == float(exact), (a, b, c)
    assert overlap._fused_multiply_add(1e308, 3.0, -1.7e308) == float(Fraction(1e308) * 3 - Fraction(1.7e308))
    assert overlap._fused_multiply_add(1e308, 10.0, -1e308) == math.inf  # the exact sum rounds past the range
    assert overlap._fused_multiply_add(math.inf, 2.0, 1.0) == math.inf
    assert math.isnan(overlap._fused_multiply_add(math.nan, 1.0, 1.0))


@pytest.mark.parametrize("matype", [0, 1, 2, 3, 4, 5, 6, 8])
def test_moving_average_factory_gives_fresh_warming_averages(matype: int) -> None:
    first, second = moving_average(matype, 5), moving_average(matype, 5)
    assert first is not second
    first.update(1.0)
    assert not first.ready and math.isnan(first.value) and math.isnan(second.value)


def test_moving_average_factory_with_period_one_returns_the_input() -> None:
    average = moving_average(matype=6, timeperiod=1)
    average.update(3.25)
    assert average.ready and average.value == 3.25



@pytest.mark.parametrize(("factory", "message"), [
    (lambda: overlap.SimpleMovingAverage(timeperiod=0), "SimpleMovingAverage timeperiod must be an integer >= 1, got 0"),
    (lambda: overlap.MovingAverage(timeperiod=5, matype=9),
     "MovingAverage matype must be a TA-Lib moving-average type 0..8, got 9"),
    (lambda: overlap.TillsonT3MovingAverage(vfactor=1.5),
     "TillsonT3MovingAverage vfactor must be a number in [0, 1], got 1.5"),
    (lambda: overlap.VariablePeriodMovingAverage(minperiod=10, maxperiod=5),
     "VariablePeriodMovingAverage maxperiod must be >= minperiod (10), got 5"),
    (lambda: overlap_bands.BollingerBands(nbdevup=math.nan),
     "BollingerBands nbdevup must be a number in [-3e+37, 3e+37], got nan"),
    (lambda: overlap_stops.ParabolicSar(acceleration=-0.1),
     "ParabolicSar acceleration must be a number in [0, 3e+37], got -0.1"),
    (lambda: overlap_stops.SuperTrend(timeperiod=1), "SuperTrend timeperiod must be an integer >= 2, got 1"),
    (lambda: moving_average(matype=True, timeperiod=5),
     "moving_average matype must be a TA-Lib moving-average type 0..8, got True"),
    (lambda: moving_average(matype=0, timeperiod=True), "moving_average timeperiod must be an integer >= 1, got True"),
])
def test_bad_settings_are_rejected_naming_the_indicator_the_setting_and_the_value(factory: object,
                                                                                   message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        factory()  # type: ignore[operator]
