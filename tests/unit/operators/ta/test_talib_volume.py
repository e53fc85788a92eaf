"""TA-Lib's volume indicators, fed one bar at a time, match ``talib`` on real bars."""

from __future__ import annotations

import math

import numpy as np
import pytest

from operators.ta.indicators.volume import accumulation
from operators.ta.indicators.volume import TALIB_FUNCTIONS, RelativeVolume, VolumeWeightedAveragePrice
from tests.unit.operators.ta.talib_parity import assert_matches_talib_on, assert_parity, assert_refused, parity_cases


NON_DEFAULT_PARAMETERS: dict[str, dict[str, int]] = {
    "AD": {},
    "ADOSC": {"fastperiod": 5, "slowperiod": 21},
    "CMF": {"timeperiod": 7},
    "EFI": {"timeperiod": 2},
    "MARKETFI": {},
    "NVI": {},
    "OBV": {},
    "PVI": {},
    "PVO": {"fastperiod": 5, "slowperiod": 15, "matype": 0},
    "PVT": {},
    "RVOL": {"timeperiod": 5},
    "VWAP": {},
}


def test_every_volume_function_is_listed() -> None:
    assert set(TALIB_FUNCTIONS) == set(NON_DEFAULT_PARAMETERS)


@pytest.mark.parametrize(("name", "params", "series"), parity_cases(TALIB_FUNCTIONS, NON_DEFAULT_PARAMETERS))
def test_matches_talib_bar_by_bar(name: str, params: dict[str, object], series: str) -> None:
    assert_parity(name, TALIB_FUNCTIONS[name], params, series=series)


def degenerate_bars() -> dict[str, np.ndarray]:
    """Hand-made bars hitting TA-Lib's guards: flat bars, zero closes, runs of zero volume."""
    close = np.array([1.0, 1.0, 0.0, 2.0, 2.0, 3.0, 0.0, 0.0, 4.0, 5.0, 5.0, 4.0, 4.0, 6.0, 6.0, 6.0, 7.0, 3.0])
    volume = np.array([0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 5.0, 2.0, 2.0, 0.0, 7.0, 1.0, 0.0, 0.0, 0.0, 4.0, 9.0, 1.0])
    high = close + np.array([0.0, 0.0, 1.0, 0.0, 0.5, 0.0, 2.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 3.0, 0.0, 1.0, 0.0, 2.0])
    low = close - np.array([0.0, 0.0, 0.0, 1.0, 0.5, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 1.0])
    return {"open": close, "high": high, "low": low, "close": close, "volume": volume}


SMALL_PARAMETERS: dict[str, dict[str, int]] = {
    "ADOSC": {"fastperiod": 2, "slowperiod": 3},
    "CMF": {"timeperiod": 3},
    "EFI": {"timeperiod": 3},
    "PVO": {"fastperiod": 2, "slowperiod": 3, "matype": 0},
    "RVOL": {"timeperiod": 2},
}


@pytest.mark.parametrize("name", sorted(TALIB_FUNCTIONS))
def test_degenerate_bars_get_talibs_guarded_values(name: str) -> None:
    assert_matches_talib_on(name, TALIB_FUNCTIONS[name], degenerate_bars(), SMALL_PARAMETERS.get(name))


def test_relative_volume_after_a_dead_window_is_infinite_or_not_a_number() -> None:
    relative = RelativeVolume(timeperiod=2)
    seen = []
    for volume in [0.1, 0.2, 0.7, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0]:
        relative.update(volume)
        seen.append(relative.value)
    assert seen[5] == math.inf
    assert math.isnan(seen[8]) and relative.ready


def test_vwap_is_zero_until_volume_trades_then_carries_its_last_value() -> None:
    average = VolumeWeightedAveragePrice()
    average.update(3.0, 1.0, 2.0, 0.0)
    assert average.ready and average.value == 0.0
    average.update(3.0, 3.0, 3.0, 2.0)
    average.update(9.0, 9.0, 9.0, 0.0)
    assert average.value == 3.0


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("CMF", {"timeperiod": 1}, "ChaikinMoneyFlow timeperiod must be an integer in [2, 100000], got 1"),
        ("ADOSC", {"fastperiod": 0}, "ChaikinOscillator fastperiod must be an integer in [2, 100000], got 0"),
        ("EFI", {"timeperiod": 2.5}, "ElderForceIndex timeperiod must be an integer in [1, 100000], got 2.5"),
        ("PVO", {"matype": 9}, "PercentageVolumeOscillator matype must be a TA-Lib moving-average type 0..8, got 9"),
        ("RVOL", {"timeperiod": 100_001}, "RelativeVolume timeperiod must be an integer in [1, 100000], got 100001"),
    ],
)
def test_bad_settings_are_rejected_with_a_message_naming_them(name: str, params: dict[str, object], message: str) -> None:
    assert_refused(TALIB_FUNCTIONS[name], params, message)



def test_fused_multiply_add_rounds_once_like_c() -> None:
    # 0.1 * 10 - 1 is 0 with two roundings and 2**-54 with one.
    assert accumulation.fused_multiply_add(0.1, 10.0, -1.0) == 2.0**-54
    assert accumulation.exact_fused_multiply_add(0.1, 10.0, -1.0) == 2.0**-54
