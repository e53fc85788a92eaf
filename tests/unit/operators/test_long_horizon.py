"""The long-horizon bar operator equals a brute-force pandas/TA-Lib recomputation on real bars."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib

from models.bars.history import _daily_chunks, _hourly_chunks, adjusted_bars
from operators.features.bars import Bar, TimeBarBuilder
from operators.features.long_horizon import (FEATURE_NAMES, INTRADAY_FEATURES, VARIANCE_FLOOR, LongHorizonFeatures,
                                             LongHorizonRow)

SYMBOL = "AIG"  # 2008 holds a -60% day, a split-adjusted history and half days
FIRST, LAST = "2007-01-01", "2009-12-31"


def _bars(path: Path, interval: str) -> list[Bar]:
    chunks = _hourly_chunks(path) if interval == "hour" else _daily_chunks(path)
    first, last = (pd.Timestamp(d, tz="UTC").value for d in (FIRST, LAST))
    out = []
    for chunk in chunks:
        chunk = chunk[(chunk["symbol"] == SYMBOL) & (chunk["start_ns"] >= first) & (chunk["start_ns"] < last)]
        out += [bar for _, bar in adjusted_bars(chunk)]
    return out


@pytest.fixture(scope="module")
def hourly_bars(market_data: Path) -> list[Bar]:
    return _bars(market_data / "bars" / "bars_hourly_us_equities_1998_2021.csv.gz", "hour")


@pytest.fixture(scope="module")
def daily_bars(market_data: Path) -> list[Bar]:
    return _bars(market_data / "bars" / "bars_daily_us_equities_1998_2021.csv.gz", "day")


def _run(operator: LongHorizonFeatures, bars: list[Bar]) -> list[LongHorizonRow]:
    rows = [row for bar in bars if (row := operator.update(bar)) is not None]
    last = operator.flush()
    return rows + ([last] if last is not None else [])


def _log(values: pd.Series) -> pd.Series:
    return np.log(values.clip(lower=VARIANCE_FLOOR))


def _sessions(bars: list[Bar]) -> pd.DataFrame:
    """Brute force: group intraday bars by New York date into day bars with realized variance."""
    frame = pd.DataFrame([(b.start_ns, b.open, b.high, b.low, b.close, b.volume) for b in bars],
                         columns=["start_ns", "open", "high", "low", "close", "volume"])
    frame["day"] = pd.to_datetime(frame["start_ns"], utc=True).dt.tz_convert("America/New_York").dt.date
    previous = frame.groupby("day")["close"].shift(1).fillna(frame["open"])
    frame["r2"] = np.log(frame["close"] / previous) ** 2
    frame["down"] = np.where(frame["close"] < previous, frame["r2"], 0.0)
    return frame.groupby("day").agg(open=("open", "first"), high=("high", "max"), low=("low", "min"),
                                    close=("close", "last"), volume=("volume", "sum"), rv=("r2", "sum"),
                                    down=("down", "sum"), bars=("r2", "size"))


def _expected(days: pd.DataFrame, intraday: bool) -> pd.DataFrame:
    out = pd.DataFrame(index=days.index)
    log_close = np.log(days["close"])
    for k in (1, 5, 22, 66, 252):
        out[f"log_return_{k}d"] = log_close - log_close.shift(k)
    overnight = np.log(days["open"] / days["close"].shift(1))
    out["overnight_return"] = overnight
    high, low, close = (days[c].to_numpy() for c in ("high", "low", "close"))
    out["rsi_14"] = talib.RSI(close, 14)
    out["adx_14"] = talib.ADX(high, low, close, 14)
    out["atr_14_bps"] = 1e4 * talib.ATR(high, low, close, 14) / close
    high_low = np.log(days["high"] / days["low"])
    parkinson = high_low**2 / (4 * math.log(2))
    garman_klass = 0.5 * high_low**2 - (2 * math.log(2) - 1) * np.log(days["close"] / days["open"]) ** 2
    out["log_parkinson_5"] = _log(parkinson.rolling(5).mean())
    out["log_parkinson_22"] = _log(parkinson.rolling(22).mean())
    out["log_garman_klass_22"] = _log(garman_klass.rolling(22).mean())
    log_volume = np.log(days["volume"])
    out["volume_zscore_22"] = (log_volume - log_volume.rolling(22).mean()) / log_volume.rolling(22).std()
    if intraday:
        out["log_rv_d"] = _log(days["rv"])
        out["log_rv_w"] = _log(days["rv"].rolling(5).mean())
        out["log_rv_m"] = _log(days["rv"].rolling(22).mean())
        out["downside_share_d"] = days["down"] / days["rv"]
        out["log_overnight_var_w"] = _log((overnight**2).rolling(5).mean())
        out["session_bars"] = days["bars"].astype(float)
    else:
        for name in INTRADAY_FEATURES:
            out[name] = np.nan
    return out[list(FEATURE_NAMES)]


def _actual(rows: list[LongHorizonRow]) -> np.ndarray:
    return np.array([row.values for row in rows])


def test_hourly_features_equal_a_brute_force_recomputation(hourly_bars: list[Bar]) -> None:
    rows = _run(LongHorizonFeatures(interval="hour"), hourly_bars)
    days = _sessions(hourly_bars)
    assert [pd.Timestamp.fromordinal(r.day).date() for r in rows] == list(days.index)
    np.testing.assert_allclose(_actual(rows), _expected(days, intraday=True).to_numpy(), rtol=1e-9, atol=1e-12)
    assert {4.0, 7.0} <= {row.value("session_bars") for row in rows}  # half days and full days


def test_daily_features_equal_a_brute_force_recomputation_and_leave_intraday_ones_nan(daily_bars: list[Bar]) -> None:
    rows = _run(LongHorizonFeatures(interval="day"), daily_bars)
    days = pd.DataFrame([(b.open, b.high, b.low, b.close, b.volume) for b in daily_bars],
                        columns=["open", "high", "low", "close", "volume"])
    expected = _expected(days, intraday=False).to_numpy()
    np.testing.assert_allclose(_actual(rows), expected, rtol=1e-9, atol=1e-12)
    assert np.isfinite(_actual(rows)[-1, : -len(INTRADAY_FEATURES)]).all()


def test_pickled_operator_continues_identically(hourly_bars: list[Bar]) -> None:
    operator = LongHorizonFeatures(interval="hour")
    half = len(hourly_bars) // 2
    for bar in hourly_bars[:half]:
        operator.update(bar)
    restored = pickle.loads(pickle.dumps(operator))
    rest = hourly_bars[half:]
    assert [r.values for r in _run(restored, rest)] == [r.values for r in _run(operator, rest)]


def test_a_session_completes_when_the_next_one_starts_or_on_flush(hourly_bars: list[Bar]) -> None:
    operator = LongHorizonFeatures(interval="hour")
    first_day = [bar for bar in hourly_bars[:7]]
    assert all(operator.update(bar) is None for bar in first_day)
    completed = operator.flush()
    assert completed is not None and completed.end_ns == first_day[-1].end_ns
    assert operator.flush() is None


def test_bar_without_positive_prices_is_counted_and_skipped() -> None:
    operator = LongHorizonFeatures(interval="day")
    assert operator.update(Bar(0, 1, 0.0, 1.0, 0.0, 1.0, 5.0, math.nan, 0, 0.0, 0.0)) is None
    assert operator.rejected_bars == 1


@pytest.mark.parametrize(("setting", "message"), [({"interval": "week"}, "interval must be one of"),
                                                  ({"timezone": "Mars/Olympus"}, "IANA time zone")])
def test_bad_settings_name_the_value(setting: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LongHorizonFeatures(**setting)


def test_bars_built_from_the_tick_stream_give_one_session_per_trading_day(market_data: Path) -> None:
    trades = pd.concat(chunk[chunk["symbol"] == "IBM"] for chunk in pd.read_csv(
        market_data / "trades.csv.gz", usecols=["ts_ns", "symbol", "price", "size"],
        dtype={"ts_ns": "int64", "symbol": "str", "price": "float64", "size": "float64"}, chunksize=500_000))
    local = pd.to_datetime(trades["ts_ns"], unit="ns", utc=True).dt.tz_convert("America/New_York")
    minutes = local.dt.hour * 60 + local.dt.minute
    regular = trades[((minutes >= 570) & (minutes < 960)).to_numpy()]  # 09:30-16:00, as the history's bars
    builder, operator = TimeBarBuilder(interval_ns=3_600 * 10**9), LongHorizonFeatures(interval="hour")
    bars = [bar for ts, price, size in zip(regular["ts_ns"].tolist(), regular["price"].tolist(),
                                           regular["size"].tolist(), strict=True)
            if (bar := builder.update(ts, price, size, "unknown")) is not None]
    bars.append(builder.flush())
    rows = _run(operator, bars)
    assert [pd.Timestamp.fromordinal(r.day).strftime("%Y-%m-%d") for r in rows] == ["2013-10-07", "2013-10-08",
                                                                                      "2013-10-09"]
    assert [r.value("session_bars") for r in rows] == [7.0, 7.0, 7.0]
    days = _sessions(bars)
    np.testing.assert_allclose([r.value("log_rv_d") for r in rows], np.log(days["rv"]).to_numpy(), rtol=1e-12)
