"""Cross-asset correlation and beta on real IBM and SPY minute bars."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from operators.features.cross_asset import CrossAssetConfig, PairCorrelation, pair_keys
from operators.messages import BarReturn
from tests.unit.operators.features.bar_helpers import time_bars

TRADES = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "market" / "trades.csv.gz"
MINUTE = 60_000_000_000


def _returns(trades: pd.DataFrame, symbol: str) -> list[BarReturn]:
    bars = time_bars(trades, MINUTE)
    return [BarReturn(symbol, MINUTE, previous.end_ns, bar.end_ns, math.log(bar.close / previous.close))
            for previous, bar in zip(bars, bars[1:]) if previous.end_ns == bar.start_ns]


@pytest.fixture(scope="module")
def legs() -> tuple[list[BarReturn], list[BarReturn]]:
    frame = pd.read_csv(TRADES, nrows=700_000)
    return _returns(frame[frame["symbol"] == "IBM"], "IBM"), _returns(frame[frame["symbol"] == "SPY"], "SPY")


def _run(pair: PairCorrelation, items: list[BarReturn]) -> list:
    return [row for row in (pair.update(item) for item in items) if row is not None]


def test_pair_on_real_returns_matches_pandas_rolling_correlation_and_beta(legs) -> None:
    ibm, spy = legs
    rows = _run(PairCorrelation("IBM", "SPY", window=30), sorted(ibm + spy, key=lambda r: (r.end_ns, r.symbol)))
    frame = pd.merge(pd.DataFrame({"end": [r.end_ns for r in ibm], "start": [r.previous_end_ns for r in ibm],
                                   "x": [r.log_return for r in ibm]}),
                     pd.DataFrame({"end": [r.end_ns for r in spy], "start": [r.previous_end_ns for r in spy],
                                   "y": [r.log_return for r in spy]}), on=["end", "start"])
    assert len(rows) == len(frame) > 100
    correlation = frame["x"].rolling(30).corr(frame["y"]).to_numpy()
    beta = (frame["x"].rolling(30).cov(frame["y"]) / frame["y"].rolling(30).var()).to_numpy()
    got_correlation = np.array([row.correlation for row in rows])
    got_beta = np.array([row.beta for row in rows])
    ready = ~np.isnan(correlation)
    np.testing.assert_array_equal(np.isnan(got_correlation), ~ready)
    np.testing.assert_allclose(got_correlation[ready], correlation[ready], rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(got_beta[ready], beta[ready], rtol=1e-7, atol=1e-10)
    assert np.nanmean(got_correlation) > 0.2, "IBM and SPY minute returns should co-move"


def test_pair_when_legs_interleave_differently_then_outputs_are_identical(legs) -> None:
    ibm, spy = legs
    reference = _run(PairCorrelation("IBM", "SPY", window=20), sorted(ibm + spy, key=lambda r: (r.end_ns, r.symbol)))
    for seed in range(5):
        rng = random.Random(seed)
        left, right, merged = list(ibm), list(spy), []
        while left or right:  # a random interleaving that keeps each leg in its own order
            source = left if right == [] or (left and rng.random() < 0.5) else right
            merged.append(source.pop(0))
        assert _run(PairCorrelation("IBM", "SPY", window=20), merged) == reference


def test_pair_when_spans_differ_then_returns_are_not_matched() -> None:
    pair = PairCorrelation("IBM", "SPY", window=3)
    assert pair.update(BarReturn("IBM", 60, 0, 120, 0.01)) is None
    assert pair.update(BarReturn("SPY", 60, 60, 120, 0.02)) is None
    assert pair._pending == {"IBM": [], "SPY": []} or all(len(q) == 0 for q in pair._pending.values())


def test_pair_keys_fan_the_reference_out_to_every_symbol() -> None:
    config = CrossAssetConfig(reference="SPY", pairs=(("AIG", "BAC"),))
    assert pair_keys("IBM", config) == ["IBM/SPY"]
    assert pair_keys("AIG", config) == ["AIG/SPY", "AIG/BAC"]
    assert pair_keys("SPY", config, universe_hint=("AIG", "BAC", "IBM", "SPY")) == ["AIG/SPY", "BAC/SPY", "IBM/SPY"]


@pytest.mark.parametrize("bad", [{"window": 2}, {"pairs": (("IBM", "IBM"),)}])
def test_config_when_invalid_then_raises_naming_the_value(bad) -> None:
    with pytest.raises(ValueError, match="CrossAssetConfig"):
        CrossAssetConfig(**bad)
