"""Parity of the second half of TA-Lib's momentum indicators, fed one real bar at a time.

Every function is checked at TA-Lib's defaults and at non-default settings (every moving-average
type for the functions that take one, swapped fast/slow periods, period 1 where TA-Lib allows
it) on the harness's real series: IBM daily, SPY hourly, BTC minute and SPY one-second bars.
"""

from __future__ import annotations

import math

import pytest

from operators.ta.indicators.momentum import (
    blau_oscillators,
    convergence_divergence,
    price_oscillator,
    qstick,
    rate_of_change,
    relative_strength,
    stochastic,
    trix,
    ultimate_oscillator,
)
from tests.unit.operators.ta.talib_parity import SERIES, assert_parity, assert_refused

FAMILIES = (blau_oscillators, convergence_divergence, price_oscillator, qstick, rate_of_change, relative_strength,
            stochastic, trix, ultimate_oscillator)
IMPLEMENTED = {name: cls for family in FAMILIES for name, cls in family.TALIB_FUNCTIONS.items()}
MATYPES = range(9)

PARAMETERS: dict[str, list[dict[str, object]]] = {
    "APO": [{}, {"fastperiod": 26, "slowperiod": 12, "matype": 1}, {"fastperiod": 3, "slowperiod": 3}]
    + [{"fastperiod": 5, "slowperiod": 13, "matype": matype} for matype in MATYPES],
    "PPO": [{}, {"fastperiod": 26, "slowperiod": 12, "matype": 1}]
    + [{"fastperiod": 5, "slowperiod": 13, "matype": matype} for matype in MATYPES],
    "MACD": [{}, {"fastperiod": 26, "slowperiod": 12, "signalperiod": 1}, {"fastperiod": 2, "slowperiod": 2,
                                                                            "signalperiod": 4}],
    "MACDFIX": [{}, {"signalperiod": 1}, {"signalperiod": 20}],
    "MACDEXT": [{}, {"fastperiod": 20, "fastmatype": 1, "slowperiod": 6, "slowmatype": 3, "signalperiod": 1,
                     "signalmatype": 8},
                {"fastperiod": 5, "fastmatype": 8, "slowperiod": 13, "slowmatype": 0, "signalperiod": 4,
                 "signalmatype": 6}]
    + [{"fastperiod": 5, "fastmatype": matype, "slowperiod": 13, "slowmatype": matype, "signalperiod": 4,
        "signalmatype": matype} for matype in MATYPES],
    "QSTICK": [{}, {"timeperiod": 1}, {"timeperiod": 33}],
    "ROC": [{}, {"timeperiod": 1}, {"timeperiod": 37}],
    "ROCP": [{}, {"timeperiod": 1}, {"timeperiod": 37}],
    "ROCR": [{}, {"timeperiod": 1}, {"timeperiod": 37}],
    "ROCR100": [{}, {"timeperiod": 1}, {"timeperiod": 37}],
    "RSI": [{}, {"timeperiod": 2}, {"timeperiod": 50}],
    "SMI": [{}, {"timeperiod": 2, "fastperiod": 2, "slowperiod": 2, "signalperiod": 2},
            {"timeperiod": 30, "fastperiod": 5, "slowperiod": 3, "signalperiod": 4}],
    "STOCH": [{}, {"fastk_period": 1, "slowk_period": 1, "slowd_period": 1}]
    + [{"fastk_period": 9, "slowk_period": 4, "slowk_matype": matype, "slowd_period": 5, "slowd_matype": matype}
       for matype in MATYPES],
    "STOCHF": [{}, {"fastk_period": 1, "fastd_period": 1}]
    + [{"fastk_period": 9, "fastd_period": 4, "fastd_matype": matype} for matype in MATYPES],
    "STOCHRSI": [{}, {"timeperiod": 2, "fastk_period": 1, "fastd_period": 1}]
    + [{"timeperiod": 9, "fastk_period": 6, "fastd_period": 4, "fastd_matype": matype} for matype in MATYPES],
    "TRIX": [{}, {"timeperiod": 1}, {"timeperiod": 9}],
    "TSI": [{}, {"firstperiod": 2, "secondperiod": 2}, {"firstperiod": 7, "secondperiod": 30}],
    "ULTOSC": [{}, {"timeperiod1": 1, "timeperiod2": 1, "timeperiod3": 1},
               {"timeperiod1": 30, "timeperiod2": 5, "timeperiod3": 12}],
}


def _cases() -> list[object]:
    cases = []
    for name, parameter_sets in PARAMETERS.items():
        for parameters in parameter_sets:
            settings = "-".join(f"{key}={value}" for key, value in parameters.items()) or "defaults"
            for series in SERIES:
                cases.append(pytest.param(name, parameters, series, id=f"{name}-{settings}-{series}"))
    return cases


def test_every_owned_function_is_implemented_once() -> None:
    assert sorted(IMPLEMENTED) == sorted(PARAMETERS)
    assert len(IMPLEMENTED) == 18


@pytest.mark.parametrize(("name", "parameters", "series"), _cases())
def test_matches_talib_bar_by_bar(name: str, parameters: dict[str, object], series: str) -> None:
    assert_parity(name, IMPLEMENTED[name], parameters, series)


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_reset_forgets_everything_learned(name: str) -> None:
    indicator = IMPLEMENTED[name]()
    bar = (100.0,) * len(indicator.inputs)
    for step in range(120):
        indicator.update(*(value + step % 7 for value in bar))
    assert indicator.ready
    indicator.reset()
    assert not indicator.ready
    assert all(math.isnan(value) for value in indicator.values)
    assert math.isnan(indicator.value)


@pytest.mark.parametrize(("name", "parameters", "message"), [
    ("ROC", {"timeperiod": 0}, "RateOfChangePercent timeperiod must be an integer >= 1, got 0"),
    ("RSI", {"timeperiod": 1}, "WilderRelativeStrengthIndex timeperiod must be an integer >= 2, got 1"),
    ("MACD", {"fastperiod": 1.5}, "ConvergenceDivergence fastperiod must be an integer >= 2, got 1.5"),
    ("MACDEXT", {"signalmatype": 9},
     "ExtendedConvergenceDivergence signalmatype must be a TA-Lib moving-average type 0..8, got 9"),
    ("STOCH", {"slowk_matype": True}, "SlowStochastic slowk_matype must be a TA-Lib moving-average type 0..8, got True"),
    ("PPO", {"matype": -1}, "PercentagePriceOscillator matype must be a TA-Lib moving-average type 0..8, got -1"),
    ("SMI", {"signalperiod": 1}, "StochasticMomentumIndex signalperiod must be an integer >= 2, got 1"),
    ("ULTOSC", {"timeperiod3": 0}, "UltimateOscillator timeperiod3 must be an integer >= 1, got 0"),
])
def test_bad_settings_are_refused_with_the_value(name: str, parameters: dict[str, object], message: str) -> None:
    assert_refused(IMPLEMENTED[name], parameters, message)
