"""Price transforms match TA-Lib's batch functions bar for bar on real series."""

from __future__ import annotations

import math

import pytest

from operators.ta.indicators import price_transform
from tests.unit.operators.ta.talib_parity import SERIES, assert_parity

CASES = [
    ("AVGDEV", {}), ("AVGDEV", {"timeperiod": 5}), ("AVGDEV", {"timeperiod": 2}),
    ("AVGPRICE", {}), ("HA", {}), ("MEDPRICE", {}), ("TYPPRICE", {}), ("WCLPRICE", {}),
]


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize(("name", "params"), CASES,
                         ids=[name + "".join(f"-{k}={v}" for k, v in params.items()) for name, params in CASES])
def test_streamed_values_match_talib_on_real_bars(name: str, params: dict[str, object], series: str) -> None:
    assert_parity(name, price_transform.TALIB_FUNCTIONS[name], params, series)


def test_every_price_transform_is_listed() -> None:
    assert set(price_transform.TALIB_FUNCTIONS) == {"AVGDEV", "AVGPRICE", "HA", "MEDPRICE", "TYPPRICE", "WCLPRICE"}



def test_heikin_ashi_open_chains_from_the_previous_candle() -> None:
    candles = price_transform.HeikinAshi()
    candles.update(10.0, 12.0, 9.0, 11.0)
    first_open, _, _, first_close = candles.values
    candles.update(20.0, 22.0, 19.0, 21.0)
    assert candles.values[0] == (first_open + first_close) / 2
    candles.reset()
    assert not candles.ready and math.isnan(candles.value)


def test_average_deviation_rejects_a_period_below_two() -> None:
    with pytest.raises(ValueError, match="AverageDeviation timeperiod must be an integer >= 2, got 1"):
        price_transform.AverageDeviation(timeperiod=1)
