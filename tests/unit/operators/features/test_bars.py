"""Specifications of the event-time OHLCV bar builder."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.unit.operators.features.bar_helpers import pandas_bars, time_bars
from operators.features.bars import Bar, TimeBarBuilder

SECOND = 1_000_000_000
MINUTE = 60 * SECOND


def test_bar_completes_when_a_trade_falls_in_a_later_interval() -> None:
    builder = TimeBarBuilder(MINUTE)
    assert builder.update(MINUTE + 1, 10.0, 100.0, "buy") is None
    assert builder.update(MINUTE + 2, 12.0, 50.0, "sell") is None
    assert builder.update(2 * MINUTE - 1, 9.0, 50.0, "unknown") is None
    assert builder.update(MINUTE + 30 * SECOND, 11.0, 100.0, "buy") is None
    bar = builder.update(2 * MINUTE, 11.5, 1.0, "buy")
    assert bar == Bar(
        start_ns=MINUTE,
        end_ns=2 * MINUTE,
        open=10.0,
        high=12.0,
        low=9.0,
        close=11.0,
        volume=300.0,
        vwap=(10.0 * 100 + 12.0 * 50 + 9.0 * 50 + 11.0 * 100) / 300.0,
        trade_count=4,
        buy_volume=200.0,
        sell_volume=50.0,
    )


def test_bars_align_to_interval_boundaries_and_empty_intervals_emit_nothing() -> None:
    builder = TimeBarBuilder(SECOND)
    builder.update(5 * SECOND + 700, 1.0, 1.0, "buy")
    bar = builder.update(9 * SECOND + 3, 2.0, 1.0, "buy")  # seconds 6, 7, 8 had no trades
    assert (bar.start_ns, bar.end_ns) == (5 * SECOND, 6 * SECOND)
    assert builder.flush().start_ns == 9 * SECOND
    assert builder.flush() is None


def test_advance_completes_the_bar_without_a_trade() -> None:
    builder = TimeBarBuilder(SECOND)
    builder.update(SECOND, 1.0, 1.0, "buy")
    assert builder.advance(2 * SECOND - 1) is None
    assert builder.advance(2 * SECOND).close == 1.0
    assert builder.advance(3 * SECOND) is None
    assert not builder.ready


def test_late_trade_is_folded_into_the_bar_in_progress_and_counted() -> None:
    builder = TimeBarBuilder(SECOND)
    builder.update(2 * SECOND, 1.0, 1.0, "buy")
    assert builder.update(SECOND, 3.0, 1.0, "buy") is None
    assert builder.late_trades == 1
    assert builder.value.high == 3.0 and builder.value.start_ns == 2 * SECOND


def test_zero_size_bar_has_nan_vwap_not_an_error() -> None:
    builder = TimeBarBuilder(SECOND)
    builder.update(0, 1.0, 0.0, "unknown")
    assert math.isnan(builder.flush().vwap)


@pytest.mark.parametrize("interval", [0, -5, 1.5, True])
def test_invalid_interval_is_rejected_naming_the_value(interval: object) -> None:
    with pytest.raises(ValueError, match=f"got {interval!r}"):
        TimeBarBuilder(interval)  # type: ignore[arg-type]


def test_minute_bars_from_real_ibm_trades_match_a_pandas_resample(market_data: Path) -> None:
    trades = pd.read_csv(market_data / "trades.csv.gz", nrows=400_000)
    trades = trades[trades["symbol"] == "IBM"].reset_index(drop=True)
    assert len(trades) > 2_000
    bars = time_bars(trades, MINUTE, pickle_after=5, flush=True)
    expected = pandas_bars(trades, MINUTE)
    assert [bar.start_ns for bar in bars] == list(expected.index)
    for column in expected.columns:
        ours = np.array([getattr(bar, column) for bar in bars], dtype=float)
        np.testing.assert_allclose(ours, expected[column].to_numpy(float), rtol=1e-12)
