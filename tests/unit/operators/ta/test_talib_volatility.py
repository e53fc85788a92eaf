"""TA-Lib's volatility indicators, fed one bar at a time, match ``talib`` on real bars."""

from __future__ import annotations

import numpy as np
import pytest

from operators.ta.indicators.volatility import TALIB_FUNCTIONS, NormalizedAverageTrueRange, RelativeVolatilityIndex
from tests.unit.operators.ta.talib_parity import assert_matches_talib_on, assert_parity, assert_refused, parity_cases

NON_DEFAULT_PARAMETERS: dict[str, dict[str, int]] = {
    "ADR": {"timeperiod": 5},
    "ATR": {"timeperiod": 7},
    "CVI": {"timeperiod": 5, "rocperiod": 3},
    "MASSI": {"fastperiod": 5, "slowperiod": 12},
    "NATR": {"timeperiod": 7},
    "RVI": {"timeperiod": 5, "stddevperiod": 20},
    "TRANGE": {},
}


def test_every_volatility_function_is_listed() -> None:
    assert set(TALIB_FUNCTIONS) == {"ADR", "ATR", "CVI", "MASSI", "NATR", "RVI", "TRANGE"}


@pytest.mark.parametrize(("name", "params", "series"), parity_cases(TALIB_FUNCTIONS, NON_DEFAULT_PARAMETERS))
def test_matches_talib_bar_by_bar(name: str, params: dict[str, object], series: str) -> None:
    assert_parity(name, TALIB_FUNCTIONS[name], params, series=series)


def degenerate_bars() -> dict[str, np.ndarray]:
    """Hand-made bars hitting TA-Lib's guards: flat bars and closes, zero closes."""
    close = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 3.0, 1.0, 1.0, 0.0, 0.0, 4.0])
    spread = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0])
    return {"open": close, "high": close + spread, "low": close - spread / 2, "close": close, "volume": close}


SMALL_PARAMETERS: dict[str, dict[str, int]] = {
    "ADR": {"timeperiod": 2},
    "ATR": {"timeperiod": 2},
    "CVI": {"timeperiod": 2, "rocperiod": 2},
    "MASSI": {"fastperiod": 2, "slowperiod": 3},
    "NATR": {"timeperiod": 2},
    "RVI": {"timeperiod": 2, "stddevperiod": 2},
    "TRANGE": {},
}


@pytest.mark.parametrize("name", sorted(TALIB_FUNCTIONS))
def test_degenerate_bars_get_talibs_guarded_values(name: str) -> None:
    assert_matches_talib_on(name, TALIB_FUNCTIONS[name], degenerate_bars(), SMALL_PARAMETERS[name])


def test_natr_with_timeperiod_one_is_the_raw_true_range_as_in_talib() -> None:
    assert_parity("NATR", NormalizedAverageTrueRange, {"timeperiod": 1}, series="ibm_daily")


def test_rvi_is_fifty_while_closes_do_not_move() -> None:
    indicator = RelativeVolatilityIndex(timeperiod=2, stddevperiod=3)
    for close in [5.0] * 6:
        indicator.update(close)
    assert indicator.ready and indicator.value == 50.0


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("ATR", {"timeperiod": 0}, "WilderAverageTrueRange timeperiod must be an integer in [1, 100000], got 0"),
        ("CVI", {"rocperiod": 0}, "ChaikinVolatility rocperiod must be an integer in [1, 100000], got 0"),
        ("MASSI", {"fastperiod": 1}, "MassIndex fastperiod must be an integer in [2, 100000], got 1"),
        ("RVI", {"stddevperiod": 1}, "RelativeVolatilityIndex stddevperiod must be an integer in [2, 100000], got 1"),
        ("ADR", {"timeperiod": True}, "AverageDayRange timeperiod must be an integer in [1, 100000], got True"),
    ],
)
def test_bad_settings_are_rejected_with_a_message_naming_them(name: str, params: dict[str, object], message: str) -> None:
    assert_refused(TALIB_FUNCTIONS[name], params, message)

