"""The leakage suite on a real frame: a planted leak worth about +0.02 AUC is flagged by name, the
honest frame raises nothing, and a blatant leak still trips every check.

The frame: SPY and BAC trades of the three recorded sessions (regular hours), one row per second
with a trade, and features computed from that symbol's trades up to the row (returns over 1 s to
15 min, volatility, volume, tick-rule order flow, VWAP and range position). Momentum at the label
horizons themselves is in it on purpose: it is the honest feature most entangled with the label
windows. The planted leak is Gaussian noise plus a small multiple of the 5-minute label's return.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.labels import SECOND_NS, make_labels
from models.leakage import holm, label_edge_scan, leakage_suite
from models.metrics import roc_auc
from models.stacking import BoosterFitter
from models.train import TrainConfig
from models.training_data import Targets, TrainingData, fit_regime_mixture, prepare_training_data, training_targets

from .builders import TEST_CONFIG, synthetic_frame

SYMBOLS = ("SPY", "BAC")
SESSION_OPEN_S, SESSION_CLOSE_S = 13 * 3600 + 30 * 60, 20 * 3600  # regular hours, UTC
CONFIG = TrainConfig(nthread=1, shuffled_control=(), write_report=False)
LEAK_STRENGTH = 0.045  # times the standardised 5-minute return: about +0.02 AUC


def one_symbol_frame(trades: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """Rows at the last trade of every second of one symbol's regular sessions, with trailing features."""
    mine = trades[trades["symbol"] == symbol]
    second = mine["ts_ns"] // SECOND_NS
    second_of_day = second % 86_400
    mine = mine[(second_of_day >= SESSION_OPEN_S) & (second_of_day < SESSION_CLOSE_S)]
    sign = np.sign(mine["price"].diff()).replace(0.0, np.nan).ffill().fillna(0.0)
    per_second = mine.assign(second=mine["ts_ns"] // SECOND_NS, notional=mine["price"] * mine["size"],
                             signed=sign * mine["size"]).groupby("second").agg(
        ts_ns=("ts_ns", "last"), price=("price", "last"), volume=("size", "sum"), notional=("notional", "sum"),
        signed=("signed", "sum"), trades=("size", "size"))
    parts = []
    for _, day_rows in per_second.groupby(per_second.index // 86_400):
        grid = np.arange(day_rows.index.min(), day_rows.index.max() + 1)
        full = day_rows.reindex(grid)
        traded = full["ts_ns"].notna().to_numpy()
        flows = full[["volume", "notional", "signed", "trades"]].fillna(0.0)
        log_price = np.log(full["price"].ffill())
        features = pd.DataFrame({
            "symbol": symbol, "ts_ns": full["ts_ns"], "price": full["price"],
            "log_return_1s": log_price.diff(),
            "log_return_1m": log_price.diff(60),
            "log_return_5m": log_price.diff(300),
            "log_return_15m": log_price.diff(900),
            "ewma_volatility_1m": log_price.diff().ewm(halflife=60).std(),
            "realized_volatility_5m": log_price.diff().rolling(300).std(),
            "volume_1m": flows["volume"].rolling(60).sum(),
            "trade_count_1m": flows["trades"].rolling(60).sum(),
            "signed_volume_imbalance_1m": flows["signed"].rolling(60).sum() / flows["volume"].rolling(60).sum(),
            "vwap_deviation_5m": log_price - np.log(flows["notional"].rolling(300).sum()
                                                   / flows["volume"].rolling(300).sum()),
            "range_position_5m": (full["price"].ffill() - full["price"].rolling(300, min_periods=1).min())
            / (full["price"].rolling(300, min_periods=1).max() - full["price"].rolling(300, min_periods=1).min()),
        })
        parts.append(features[traded])
    out = pd.concat(parts)
    out["ts_ns"] = out["ts_ns"].astype(np.int64)
    return out.replace([np.inf, -np.inf], np.nan)


@pytest.fixture(scope="module")
def frame(market_data: Path) -> pd.DataFrame:
    trades = pd.read_csv(market_data / "trades.csv.gz", usecols=["ts_ns", "symbol", "price", "size"])
    parts = [one_symbol_frame(trades, symbol) for symbol in SYMBOLS]
    return pd.concat(parts).sort_values(["ts_ns", "symbol"], kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def labels(frame: pd.DataFrame) -> pd.DataFrame:
    return make_labels(frame, CONFIG.horizons)


def prepared(frame: pd.DataFrame, labels: pd.DataFrame, config: TrainConfig = CONFIG) -> tuple[TrainingData, Targets]:
    data = prepare_training_data(frame, config, labels)
    return data, training_targets(data.labels, fit_regime_mixture(data, config.regime))


def run_suite(frame: pd.DataFrame, labels: pd.DataFrame, config: TrainConfig = CONFIG) -> dict:
    data, targets = prepared(frame, labels, config)
    plausible_folds = {name: [{"auc": 0.52}] for name in ("trend", "mean_reversion", "meta")}
    return leakage_suite(config, data, targets, plausible_folds, BoosterFitter(config, targets, data.development_rows))


def planted_leak(frame: pd.DataFrame, labels: pd.DataFrame, strength: float, seed: int = 3) -> np.ndarray:
    future = labels["future_return_short"].to_numpy()
    standardised = np.where(np.isfinite(future), future / np.nanstd(future), 0.0)
    return np.random.default_rng(seed).standard_normal(len(frame)) + strength * standardised


def flagged_features(leakage: dict) -> set[str]:
    return {feature for features in leakage["label_edge"]["flagged"].values() for feature in features}


def test_leakage_suite_when_a_noisy_leak_worth_two_auc_points_is_planted_then_it_flags_exactly_that_feature(
        frame: pd.DataFrame, labels: pd.DataFrame) -> None:
    leak = planted_leak(frame, labels, LEAK_STRENGTH)
    data, _ = prepared(frame, labels)
    direction = labels["direction"].to_numpy()[data.development_rows]
    labelled = np.isfinite(direction)
    gain = roc_auc(direction[labelled], leak[data.development_rows][labelled]) - 0.5
    assert 0.01 < gain < 0.04  # subtle: inside what honest microstructure features earn

    leakage = run_suite(frame.assign(leak=leak), labels)

    assert flagged_features(leakage) == {"leak"}
    figures = leakage["label_edge"]["flagged"]["meta"]["leak"]
    assert figures["t"] > 4 and abs(figures["placebo_t"]) < 2  # no edge inside its own window
    assert not leakage["passed"]
    assert any("'leak' predicts the returns inside its 5-minute label window" in f for f in leakage["findings"])
    assert leakage["suspicious_features"]["meta"] == {}  # the single-feature AUC scan alone misses it


def test_leakage_suite_on_the_honest_real_frame_then_raises_nothing(frame: pd.DataFrame,
                                                                       labels: pd.DataFrame) -> None:
    leakage = run_suite(frame, labels)

    assert leakage["passed"] and leakage["findings"] == [] and leakage["label_edge"]["flagged"] == {}
    assert leakage["label_edge"]["tests"] == 3 * 11
    for figures in leakage["label_edge"]["labels"].values():
        assert abs(figures["strongest"]["t"]) < 4.0


def test_leakage_suite_when_the_label_return_is_copied_into_a_feature_then_every_scan_fires(
        frame: pd.DataFrame, labels: pd.DataFrame) -> None:
    leakage = run_suite(frame.assign(future_hint=labels["future_return_long"].to_numpy()), labels)

    assert "future_hint" in leakage["suspicious_features"]["trend"]
    assert leakage["label_edge"]["flagged"]["trend"]["future_hint"]["p_holm"] < 1e-3
    assert flagged_features(leakage) == {"future_hint"}


def test_leakage_suite_when_the_leak_is_weaker_than_the_noise_then_it_stays_quiet(
        frame: pd.DataFrame, labels: pd.DataFrame) -> None:
    leakage = run_suite(frame.assign(leak=planted_leak(frame, labels, LEAK_STRENGTH / 10)), labels)

    assert flagged_features(leakage) == set()


def test_label_edge_scan_when_a_genuine_signal_fades_slowly_then_it_is_persistent_not_flagged() -> None:
    # The model tests' synthetic table: order flow carries a drift with a 30 s memory, against a
    # 60 s label; with this seed its edge is significant, and so is its placebo edge at 30 s.
    data = prepare_training_data(synthetic_frame(seed=14), TEST_CONFIG, None)
    targets = training_targets(data.labels, fit_regime_mixture(data, TEST_CONFIG.regime))

    scan = label_edge_scan(TEST_CONFIG, data, targets)

    assert scan["flagged"] == {}
    figures = scan["persistent"]["meta"]["order_flow_imbalance"]
    assert figures["p_holm"] <= TEST_CONFIG.leakage.edge_alpha and figures["placebo_t"] > figures["t"] / 2


def test_holm_adjusts_the_smallest_p_value_by_the_family_size_and_keeps_the_order() -> None:
    adjusted = holm(np.array([0.01, 0.04, 0.001, 0.5]))

    assert adjusted.tolist() == pytest.approx([0.03, 0.08, 0.004, 0.5])

