"""TA-Lib's momentum indicators, first half (AC .. WILLR), fed one bar at a time, match ``talib``
on real bars: same numbers to 1e-9 relative, NaN exactly where TA-Lib has no value. The flat-window
checks at the end cover the whole momentum group: TA-Lib 0.8's zero guards, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from talib import abstract

from operators.ta.indicators.momentum import (
    aroon,
    bill_williams,
    blau_oscillators,
    convergence_divergence,
    deviation_from_trend,
    directional,
    price_change,
    price_oscillator,
    pressure,
    qstick,
    range_position,
    rate_of_change,
    relative_strength,
    stochastic,
    trend_efficiency,
    trix,
    ultimate_oscillator,
    up_down_ratio,
)
from tests.unit.operators.ta.talib_parity import (
    SERIES,
    assert_parity,
    assert_refused,
    real_bars,
    stream,
    talib_outputs,
    within_bound,
)

MODULES = (aroon, bill_williams, deviation_from_trend, directional, price_change, pressure, range_position,
           trend_efficiency, up_down_ratio)

TALIB_FUNCTIONS: dict[str, type] = {name: indicator for module in MODULES
                                    for name, indicator in module.TALIB_FUNCTIONS.items()}

NON_DEFAULT_PARAMETERS: dict[str, dict[str, int]] = {
    "AC": {"fastperiod": 3, "slowperiod": 10, "signalperiod": 2},
    "ADX": {"timeperiod": 5},
    "ADXR": {"timeperiod": 2},
    "AO": {"fastperiod": 20, "slowperiod": 8},
    "AROON": {"timeperiod": 25},
    "AROONOSC": {"timeperiod": 2},
    "BOP": {},
    "CCI": {"timeperiod": 20},
    "CMO": {"timeperiod": 2},
    "CMOU": {"timeperiod": 30},
    "COPPOCK": {"wmaperiod": 5, "roc1period": 20, "roc2period": 3},
    "DPO": {"timeperiod": 2},
    "DX": {"timeperiod": 30},
    "ER": {"timeperiod": 2},
    "ERI": {"timeperiod": 1},
    "FOSC": {"timeperiod": 14},
    "FRACTAL": {"leftbars": 5, "rightbars": 1},
    "IMI": {"timeperiod": 2},
    "KDJ": {"fastk_period": 5, "slowk_period": 4, "slowk_matype": 1, "slowd_period": 2, "slowd_matype": 0},
    "MFI": {"timeperiod": 2},
    "MINUS_DI": {"timeperiod": 1},
    "MINUS_DM": {"timeperiod": 1},
    "MOM": {"timeperiod": 1},
    "PLUS_DI": {"timeperiod": 1},
    "PLUS_DM": {"timeperiod": 30},
    "VHF": {"timeperiod": 7},
    "VORTEX": {"timeperiod": 1},
    "WAD": {},
    "WILLR": {"timeperiod": 2},
}


def test_the_first_half_of_the_momentum_group_is_covered() -> None:
    expected = ("AC ADX ADXR AO AROON AROONOSC BOP CCI CMO CMOU COPPOCK DPO DX ER ERI FOSC FRACTAL IMI "
                "KDJ MFI MINUS_DI MINUS_DM MOM PLUS_DI PLUS_DM VHF VORTEX WAD WILLR").split()
    assert sorted(TALIB_FUNCTIONS) == sorted(expected) == sorted(NON_DEFAULT_PARAMETERS)


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize("name", sorted(TALIB_FUNCTIONS))
def test_default_parameters_match_talib_bar_by_bar(name: str, series: str) -> None:
    assert_parity(name, TALIB_FUNCTIONS[name], series=series)


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize("name", sorted(TALIB_FUNCTIONS))
def test_non_default_parameters_match_talib_bar_by_bar(name: str, series: str) -> None:
    assert_parity(name, TALIB_FUNCTIONS[name], NON_DEFAULT_PARAMETERS[name], series=series)


@pytest.mark.parametrize("matype", range(14))
def test_kdj_matches_talib_for_every_moving_average_type(matype: int) -> None:
    parameters = {"fastk_period": 5, "slowk_period": 3, "slowk_matype": matype, "slowd_period": 4,
                  "slowd_matype": matype}
    assert_parity("KDJ", range_position.KdjStochastic, parameters, series="spy_hourly")


@pytest.mark.parametrize("name", sorted(TALIB_FUNCTIONS))
def test_reset_forgets_everything_and_replays_identically(name: str) -> None:
    bars = {column: values[:300] for column, values in real_bars("btc_minute").items()}
    indicator = TALIB_FUNCTIONS[name](**NON_DEFAULT_PARAMETERS[name])
    first = stream(indicator, bars)
    indicator.reset()
    assert indicator.ready is False
    np.testing.assert_array_equal(stream(indicator, bars), first)


@pytest.mark.parametrize("name", sorted(TALIB_FUNCTIONS))
def test_ready_turns_true_at_talibs_first_value(name: str) -> None:
    bars = {column: values[:200] for column, values in real_bars("ibm_daily").items()}
    indicator_class = TALIB_FUNCTIONS[name]
    first_value = int(np.flatnonzero(~np.isnan(talib_outputs(name, bars, {})[0]))[0])
    if name == "FRACTAL":  # TA-Lib's integer outputs are 0, not NaN, during the warm-up
        first_value = abstract.Function(name).lookback
    indicator = indicator_class()
    columns = [bars[column] for column in indicator_class.inputs]
    for index in range(first_value + 1):
        assert indicator.ready is False, index
        indicator.update(*(float(column[index]) for column in columns))
    assert indicator.ready is True


def test_fractal_reports_zero_not_nan_during_warm_up_like_talib() -> None:
    fractal = bill_williams.Fractal()
    fractal.update(10.0, 9.0)
    assert fractal.values == (0.0, 0.0)


def test_money_flow_treats_typical_prices_equal_but_for_rounding_as_unchanged() -> None:
    # (286.38 + 284.56 + 284.94) / 3 and (285.86 + 284.2 + 285.82) / 3 differ by one ulp.
    high = np.array([286.0, 286.49, 286.38, 285.86])
    low = np.array([282.0, 282.92, 284.56, 284.2])
    close = np.array([283.0, 286.11, 284.94, 285.82])
    volume = np.array([1e6, 2e6, 1.5e6, 1e6])
    expected = talib_outputs("MFI", {"high": high, "low": low, "close": close, "volume": volume},
                             {"timeperiod": 2})[0]
    index = up_down_ratio.MoneyFlowIndex(timeperiod=2)
    for bar in zip(high, low, close, volume):
        index.update(*map(float, bar))
    assert index.value == pytest.approx(expected[-1], rel=1e-12) == 100.0


@pytest.mark.parametrize(("indicator_class", "parameters", "message"), [
    (directional.AverageDirectionalIndex, {"timeperiod": 1},
     "AverageDirectionalIndex timeperiod must be an integer >= 2, got 1"),
    (aroon.Aroon, {"timeperiod": 2.5}, "Aroon timeperiod must be an integer >= 2, got 2.5"),
    (bill_williams.Fractal, {"leftbars": 0}, "Fractal leftbars must be an integer >= 1, got 0"),
    (price_change.CoppockCurve, {"roc2period": "14"}, "CoppockCurve roc2period must be an integer >= 1, got '14'"),
    (range_position.KdjStochastic, {"slowk_matype": 14},
     "KdjStochastic slowk_matype must be a TA-Lib moving-average type 0..13, got 14"),
    (up_down_ratio.MoneyFlowIndex, {"timeperiod": True}, "MoneyFlowIndex timeperiod must be an integer >= 2, got True"),
    (deviation_from_trend.CommodityChannelIndex, {"period": 14},
     "CommodityChannelIndex takes no parameter 'period'; it takes ['timeperiod']"),
])
def test_bad_settings_are_refused_with_a_message_naming_the_value(
        indicator_class: type, parameters: dict[str, object], message: str) -> None:
    assert_refused(indicator_class, parameters, message)


SECOND_HALF = (blau_oscillators, convergence_divergence, price_oscillator, qstick, rate_of_change, relative_strength,
               stochastic, trix, ultimate_oscillator)
EVERY_MOMENTUM_FUNCTION: dict[str, type] = {name: indicator for module in MODULES + SECOND_HALF
                                            for name, indicator in module.TALIB_FUNCTIONS.items()}
# Where TA-Lib 0.8 decides "flat" or "zero" before dividing; its tests are exact or relative to the
# window's own prices, never a fixed band, so they must agree at any price level.
GUARDED = ("BOP", "CCI", "CMO", "CMOU", "ER", "IMI", "MFI", "RSI", "STOCH", "STOCHF", "STOCHRSI", "ULTOSC", "VHF",
           "VORTEX", "WILLR")
# Bit-identical to TA-Lib on any bars: same arithmetic in the same order, same guards.
BIT_EXACT = ("CCI", "CMOU", "MFI", "WILLR")


def _constant_bars(price: float, length: int = 80) -> dict[str, np.ndarray]:
    flat = np.full(length, price)
    return {"open": flat, "high": flat, "low": flat, "close": flat, "volume": np.full(length, 1000.0)}


def _assert_identical_to_talib(name: str, bars: dict[str, np.ndarray], label: str) -> None:
    expected = talib_outputs(name, bars, {})
    ours = stream(EVERY_MOMENTUM_FUNCTION[name](), bars)
    for column, reference in enumerate(expected):
        np.testing.assert_array_equal(ours[:, column], reference, err_msg=f"{name} output {column} on {label}")


@pytest.mark.parametrize("price", [101.3, 0.1, 3e-5, 1.7e-13])
@pytest.mark.parametrize("name", sorted(EVERY_MOMENTUM_FUNCTION))
def test_constant_prices_give_talibs_guard_values_bit_for_bit(name: str, price: float) -> None:
    _assert_identical_to_talib(name, _constant_bars(price), f"constant {price}")


@pytest.mark.parametrize("name", BIT_EXACT)
def test_one_second_bars_with_flat_windows_match_talib_bit_for_bit(name: str) -> None:
    # 42 bars of these broke a 1e-9 bound when CCI kept a running mean: ours was about 5e-9 where
    # TA-Lib's flatness test gives exactly 0.
    _assert_identical_to_talib(name, real_bars("spy_second"), "spy_second")


@pytest.mark.parametrize("scale", [1e-12, 1e-16])
@pytest.mark.parametrize("name", GUARDED)
def test_zero_guards_hold_for_instruments_quoted_far_below_one(name: str, scale: float) -> None:
    bars = {column: values * scale if column != "volume" else values
            for column, values in real_bars("spy_second").items()}
    expected = talib_outputs(name, bars, {})
    ours = stream(EVERY_MOMENTUM_FUNCTION[name](), bars)
    for column, reference in enumerate(expected):
        assert np.array_equal(np.isnan(ours[:, column]), np.isnan(reference)), name
        valid = ~np.isnan(reference)
        bad = np.flatnonzero(~within_bound(ours[valid, column], reference[valid]))
        assert bad.size == 0, f"{name} output {column} at scale {scale}: {bad.size} bars differ"
