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
finite number, the same infinity where TA-Lib has one, and "not ready" (NaN) exactly where
TA-Lib has NaN.

``SERIES`` names the real bar series every family runs on: IBM daily, SPY hourly, BTC-PERP minute
and SPY one-second bars built from the recorded trades (``spy_second``). The one-second bars hold
many windows of identical prices, which is where flat-window conventions (an exact 0 against a
rounding residue such as 5e-9) show.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from talib import abstract

MARKET = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "market"
TOLERANCE = 1e-9
SERIES = ("ibm_daily", "spy_hourly", "btc_minute", "spy_second")

NEW_YORK = "America/New_York"
REGULAR_OPEN = "09:30:00"
REGULAR_CLOSE = "16:00:00"
# A trade this far from the median of the 501 trades around it is an off-market print.
OFF_MARKET_FRACTION = 0.005
OFF_MARKET_WINDOW = 501
# The slice of one-second bars the parity suites use: the quiet midday of 2013-10-07 ET, the
# stretch of the three sessions with the most flat 14-bar windows, still moving 40 cents.
SPY_SECOND_START = "2013-10-07 12:35:10"
SPY_SECOND_BARS = 5000


@lru_cache(maxsize=None)
def spy_second_bars() -> pd.DataFrame:
    """Regular-hours one-second OHLCV bars of SPY, 2013-10-07..09, built from the recorded trades.

    Trades outside 09:30-16:00 ET, with a non-positive price or size, or off-market (see
    ``OFF_MARKET_FRACTION``) are dropped; the 16:00 closing cross therefore is not a bar. Each
    session is a regular grid of seconds from its first trade to 15:59:59: a second without a
    trade is a flat bar at the previous close with zero volume. Indexed by the bar's start in
    UTC epoch seconds.
    """
    trades = pd.read_csv(MARKET / "trades.csv.gz", usecols=["ts_ns", "symbol", "price", "size"])
    trades = trades[(trades["symbol"] == "SPY") & (trades["price"] > 0) & (trades["size"] > 0)]
    local_time = pd.to_datetime(trades["ts_ns"], unit="ns", utc=True).dt.tz_convert(NEW_YORK)
    clock = local_time - local_time.dt.normalize()
    regular = (clock >= pd.Timedelta(REGULAR_OPEN)) & (clock < pd.Timedelta(REGULAR_CLOSE))
    trades, local_time = trades[regular], local_time[regular]
    median = trades["price"].rolling(OFF_MARKET_WINDOW, center=True, min_periods=1).median()
    on_market = (trades["price"] / median - 1.0).abs() <= OFF_MARKET_FRACTION
    trades, local_time = trades[on_market], local_time[on_market]
    second = trades["ts_ns"] // 1_000_000_000
    sessions = []
    for day, day_trades in trades.groupby(local_time.dt.date.to_numpy()):
        by_second = day_trades.groupby(second[day_trades.index])
        bars = pd.DataFrame({
            "open": by_second["price"].first(), "high": by_second["price"].max(),
            "low": by_second["price"].min(), "close": by_second["price"].last(),
            "volume": by_second["size"].sum().astype(np.float64),
        })
        end = int(pd.Timestamp(f"{day} {REGULAR_CLOSE}", tz=NEW_YORK).timestamp())
        bars = bars.reindex(np.arange(bars.index[0], end))
        bars["close"] = bars["close"].ffill()
        for column in ("open", "high", "low"):
            bars[column] = bars[column].fillna(bars["close"])
        bars["volume"] = bars["volume"].fillna(0.0)
        sessions.append(bars)
    return pd.concat(sessions).rename_axis("second")


@lru_cache(maxsize=None)
def real_bars(name: str = "ibm_daily") -> dict[str, np.ndarray]:
    """Real OHLCV bars as float64 arrays (raw, unadjusted prices as recorded)."""
    if name == "ibm_daily":
        frame = pd.read_csv(MARKET / "bars" / "bars_daily_us_equities_1998_2021.csv.gz")
        frame = frame[frame["symbol"] == "IBM"]
    elif name == "spy_hourly":
        frame = pd.read_csv(MARKET / "bars" / "bars_hourly_us_equities_1998_2021.csv.gz")
        frame = frame[frame["symbol"] == "SPY"].tail(6000)
    elif name == "btc_minute":
        frame = pd.read_csv(MARKET / "bars" / "bars_minute_ftx_btc-perp_2022-01.csv.gz").head(6000)
    elif name == "spy_second":
        bars = spy_second_bars()
        start = int(pd.Timestamp(SPY_SECOND_START, tz=NEW_YORK).timestamp())
        frame = bars.loc[start:].head(SPY_SECOND_BARS)
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


def within_bound(ours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per bar: equal (infinities included), or within ``TOLERANCE`` relative to a finite reference."""
    with np.errstate(invalid="ignore"):
        error = np.abs(ours - reference)
    bound = np.where(np.isfinite(reference), TOLERANCE * np.maximum(1.0, np.abs(reference)), 0.0)
    return (ours == reference) | (error <= bound)


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
        bad = np.flatnonzero(~within_bound(got[valid], reference[valid]))
        if bad.size:
            first = np.flatnonzero(valid)[bad[0]]
            raise AssertionError(
                f"{name}.{output_name} {params} on {series}: {bad.size} bars differ, first at bar {first}: "
                f"talib {reference[first]!r}, ours {got[first]!r}")
        assert valid.any(), f"{name}.{output_name} {params} on {series}: TA-Lib gave no values at all"


def parity_cases(functions: Mapping[str, type],
                 non_default: Mapping[str, Mapping[str, object]] | None = None) -> list[object]:
    """``pytest.param(name, params, series)`` for each function on each series: its defaults, and
    the non-default parameters given for it."""
    cases = []
    for name in sorted(functions):
        settings = [{}] + ([dict(non_default[name])] if non_default and non_default.get(name) else [])
        for params in settings:
            label = ",".join(f"{key}={value}" for key, value in params.items()) or "defaults"
            cases.extend(pytest.param(name, params, series, id=f"{name}-{label}-{series}") for series in SERIES)
    return cases


def assert_matches_talib_on(name: str, indicator_class: type, bars: Mapping[str, np.ndarray],
                            params: Mapping[str, object] | None = None, tolerance: float = 1e-12) -> None:
    """Every output equals TA-Lib's on hand-made ``bars`` (NaN where TA-Lib has NaN)."""
    params = dict(params or {})
    expected = talib_outputs(name, bars, params)
    ours = stream(indicator_class(**params), bars)
    for column, reference in enumerate(expected):
        np.testing.assert_allclose(ours[:, column], reference, rtol=tolerance, atol=tolerance, equal_nan=True)


def assert_refused(indicator_class: type, settings: Mapping[str, object], message: str) -> None:
    """``indicator_class(**settings)`` raises ``ValueError`` with exactly ``message``."""
    with pytest.raises(ValueError) as refused:
        indicator_class(**settings)
    assert str(refused.value) == message


def _bits(values: tuple[float, ...]) -> bytes:
    """The outputs as raw doubles, so NaN equals NaN and 0.0 differs from -0.0."""
    return struct.pack(f"{len(values)}d", *values)


def assert_restored_continues_bit_identically(function: str, indicator_class: type,
                                              restore: Callable[[object], object], snapshot_at: int,
                                              series: str = "spy_hourly", length: int = 700) -> None:
    """Feed a fresh ``indicator_class()`` ``snapshot_at`` real bars, ``restore`` a copy of it, then feed both
    the rest of ``length`` bars: every output of every bar is the same double, and the indicator warms up."""
    bars = real_bars(series)
    inputs = [tuple(float(bars[name][index]) for name in indicator_class.inputs)  # type: ignore[attr-defined]
              for index in range(length)]
    original = indicator_class()
    for bar in inputs[:snapshot_at]:
        original.update(*bar)
    restored = restore(original)
    assert type(restored) is indicator_class and restored is not original
    for index, bar in enumerate(inputs[snapshot_at:], start=snapshot_at):
        original.update(*bar)
        restored.update(*bar)
        assert _bits(restored.values) == _bits(original.values), f"{function} differs at bar {index}"
        assert restored.ready == original.ready
    assert original.ready, f"{function} never warmed up: the comparison would only have seen NaN"


def assert_reset_forgets_everything(indicator_class: type, series: str = "spy_hourly", length: int = 200) -> None:
    """After ``reset()`` an indicator is not ready and repeats its outputs exactly; ``value`` is
    the first of ``values``."""
    bars = real_bars(series)
    indicator = indicator_class()
    head = {column: bars[column][:length] for column in indicator_class.inputs}  # type: ignore[attr-defined]
    first = stream(indicator, head)
    indicator.reset()  # type: ignore[attr-defined]
    assert not indicator.ready  # type: ignore[attr-defined]
    np.testing.assert_array_equal(first, stream(indicator, head))
    value = indicator.value  # type: ignore[attr-defined]
    assert value == indicator.values[0] or (np.isnan(value) and np.isnan(indicator.values[0]))  # type: ignore[attr-defined]
