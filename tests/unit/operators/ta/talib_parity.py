"""Parity harness: feed real bars one at a time to our indicator and compare with TA-Lib.

Every indicator class in an ``operators.ta.indicators`` family module follows one contract:

- constructor keyword arguments named exactly as TA-Lib's parameters, same defaults;
- ``inputs``: class attribute, TA-Lib's price inputs in order (``"open"``, ``"high"``, ``"low"``,
  ``"close"``, ``"volume"``, or ``"periods"`` for MAVP);
- ``outputs``: class attribute, TA-Lib's output names in order;
- ``update(*inputs)``: one bar, O(1); ``values``: all outputs, NaN where TA-Lib gives NaN;
  ``value``: the first output; ``ready``; ``reset()``.

``assert_parity`` runs TA-Lib's batch function over the whole series and our indicator one
bar at a time, and checks ``|ours - talib| <= 1e-9 * max(1, |talib|)`` wherever TA-Lib has a
number and "not ready" (NaN) exactly where TA-Lib has NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from talib import abstract

MARKET = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "market" / "bars"
TOLERANCE = 1e-9


@lru_cache(maxsize=None)
def real_bars(name: str = "ibm_daily") -> dict[str, np.ndarray]:
    """Real OHLCV bars as float64 arrays (raw, unadjusted prices as recorded)."""
    if name == "ibm_daily":
        frame = pd.read_csv(MARKET / "bars_daily_us_equities_1998_2021.csv.gz")
        frame = frame[frame["symbol"] == "IBM"]
    elif name == "spy_hourly":
        frame = pd.read_csv(MARKET / "bars_hourly_us_equities_1998_2021.csv.gz")
        frame = frame[frame["symbol"] == "SPY"].tail(6000)
    elif name == "btc_minute":
        frame = pd.read_csv(MARKET / "bars_minute_ftx_btc-perp_2022-01.csv.gz").head(6000)
    else:
        raise ValueError(f"unknown bar series {name!r}")
    frame = frame.reset_index(drop=True)
    volume_column = "volume" if "volume" in frame.columns else next(c for c in frame.columns if "volume" in c)
    arrays = {column: frame[column].to_numpy(dtype=np.float64) for column in ("open", "high", "low", "close")}
    arrays["volume"] = frame[volume_column].to_numpy(dtype=np.float64)
    # MAVP's variable periods: a deterministic sweep through 2..30.
    arrays["periods"] = (2 + (np.arange(len(frame)) * 7) % 29).astype(np.float64)
    return arrays


def talib_outputs(name: str, bars: Mapping[str, np.ndarray], params: Mapping[str, object]) -> list[np.ndarray]:
    function = abstract.Function(name)
    function.set_input_arrays({key: value for key, value in bars.items()})
    function.set_parameters(dict(params))
    result = function.run()
    outputs = result if isinstance(result, list) else [result]
    return [np.asarray(output, dtype=np.float64) for output in outputs]


def talib_input_names(name: str) -> tuple[str, ...]:
    names: list[str] = []
    for value in abstract.Function(name).input_names.values():
        names.extend([value] if isinstance(value, str) else value)
    return tuple(names)


def stream(indicator: object, bars: Mapping[str, np.ndarray]) -> np.ndarray:
    """Our outputs, one row per bar, fed one bar at a time."""
    inputs = type(indicator).inputs  # type: ignore[attr-defined]
    columns = [bars[name] for name in inputs]
    out = np.empty((len(columns[0]), len(type(indicator).outputs)), dtype=np.float64)  # type: ignore[attr-defined]
    update = indicator.update  # type: ignore[attr-defined]
    for index in range(len(columns[0])):
        update(*(float(column[index]) for column in columns))
        out[index] = indicator.values  # type: ignore[attr-defined]
    return out


def assert_parity(name: str, indicator_class: type, params: Mapping[str, object] | None = None,
                  series: str = "ibm_daily") -> None:
    params = dict(params or {})
    bars = real_bars(series)
    expected_inputs = talib_input_names(name)
    assert tuple(indicator_class.inputs) == expected_inputs, (  # type: ignore[attr-defined]
        f"{name}: inputs {indicator_class.inputs} differ from TA-Lib's {expected_inputs}")  # type: ignore[attr-defined]
    assert tuple(indicator_class.outputs) == tuple(abstract.Function(name).output_names), (  # type: ignore[attr-defined]
        f"{name}: outputs differ from TA-Lib's {abstract.Function(name).output_names}")
    expected = talib_outputs(name, bars, params)
    ours = stream(indicator_class(**params), bars)
    for column, (output_name, reference) in enumerate(zip(indicator_class.outputs, expected)):  # type: ignore[attr-defined]
        got = ours[:, column]
        reference_nan = np.isnan(reference)
        mismatched_nan = np.flatnonzero(reference_nan != np.isnan(got))
        assert mismatched_nan.size == 0, (
            f"{name}.{output_name} {params} on {series}: readiness differs first at bar {mismatched_nan[0]} "
            f"(talib {reference[mismatched_nan[0]]!r}, ours {got[mismatched_nan[0]]!r})")
        valid = ~reference_nan
        error = np.abs(got[valid] - reference[valid])
        bound = TOLERANCE * np.maximum(1.0, np.abs(reference[valid]))
        bad = np.flatnonzero(error > bound)
        if bad.size:
            first = np.flatnonzero(valid)[bad[0]]
            raise AssertionError(
                f"{name}.{output_name} {params} on {series}: {bad.size} bars differ, first at bar {first}: "
                f"talib {reference[first]!r}, ours {got[first]!r}")
        assert valid.any(), f"{name}.{output_name} {params} on {series}: TA-Lib gave no values at all"
