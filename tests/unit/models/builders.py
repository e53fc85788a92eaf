"""Builders the model tests share: a synthetic but realistic features table, the small training
configuration, and a trained ensemble logged to a registry.

The table: three symbols at about one row per second for two hours (a few seconds without a tick),
random-walk prices whose volatility wanders, and one planted signal: a slowly varying latent
drift ``z`` moves the price over the next minutes, and ``order_flow_imbalance`` is ``z`` plus
noise. Every other feature is noise or a function of past prices only.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from models.labels import SECOND_NS, Horizons
from models.mlflow_registry import RegistryConfig, VersionInfo, log_training_run
from models.train import TrainConfig, train_ensemble
from models.validation import WalkForwardConfig

START_NS = 1_381_152_600 * SECOND_NS  # 2013-10-07 13:30 UTC
TEST_HORIZONS = Horizons(
    short_ns=60 * SECOND_NS,
    long_ns=180 * SECOND_NS,
    volatility_ns=60 * SECOND_NS,
    tolerance_ns=5 * SECOND_NS,
    max_gap_ns=30 * SECOND_NS,
)
# 2 shared cores: no OpenMP spinning; 3 folds keep a session's training under ~10 s.
TEST_CONFIG = TrainConfig(horizons=TEST_HORIZONS, nthread=1, walk_forward=WalkForwardConfig(n_folds=3))


def _ar1(rng: np.random.Generator, n: int, timescale_s: float) -> np.ndarray:
    phi = np.exp(-1.0 / timescale_s)
    shocks = rng.standard_normal(n) * np.sqrt(1 - phi**2)
    out = np.empty(n)
    out[0] = rng.standard_normal()
    for i in range(1, n):
        out[i] = phi * out[i - 1] + shocks[i]
    return out


def synthetic_frame(seed: int = 11, seconds: int = 7200, symbols: tuple[str, ...] = ("AAA", "BBB", "CCC")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for symbol, start_price in zip(symbols, (40.0, 15.0, 180.0)):
        z = _ar1(rng, seconds, 30.0)
        sigma = 2e-4 * np.exp(0.4 * _ar1(rng, seconds, 900.0))
        log_return = sigma * (rng.standard_normal(seconds) + 0.15 * z)
        price = start_price * np.exp(np.cumsum(log_return))
        ts = START_NS + np.arange(seconds) * SECOND_NS + rng.integers(0, SECOND_NS // 2, seconds)
        past = pd.Series(np.log(price))
        features = pd.DataFrame(
            {
                "symbol": symbol,
                "ts_ns": ts,
                "price": price,
                "last_price": price,
                "log_return_1s": past.diff(),
                "log_return_1m": past.diff(60),
                "ewma_volatility_1m": past.diff().ewm(halflife=60).std(),
                "atr_1m": pd.Series(price).diff().abs().rolling(60).mean(),
                "rsi_1m": rng.uniform(0, 100, seconds),
                "spread_bps": rng.gamma(2.0, 1.0, seconds),
                "quote_imbalance": rng.uniform(-1, 1, seconds),
                "order_flow_imbalance": z + 0.5 * rng.standard_normal(seconds),
            }
        )
        features.loc[:59, ["log_return_1m", "ewma_volatility_1m", "atr_1m", "rsi_1m"]] = np.nan  # warm-up
        keep = rng.random(seconds) > 0.03  # a few seconds without a tick
        parts.append(features[keep])
    return pd.concat(parts).sort_values(["ts_ns", "symbol"], kind="stable").reset_index(drop=True)


def train_and_register(config: RegistryConfig, frame: pd.DataFrame, model_dir: Path, *, seed: int, n_estimators: int,
                       feature_set: str, data_sha256: str | None = None) -> VersionInfo:
    """Train a small ensemble on ``frame`` into ``model_dir``, tag it with ``feature_set`` and register
    it as the next version in ``config``'s registry."""
    from dataflows.backfill import record_feature_set

    train_ensemble(frame, model_dir, dataclasses.replace(TEST_CONFIG, n_estimators=n_estimators, seed=seed))
    record_feature_set(model_dir, feature_set)
    return log_training_run(config, model_dir, data_sha256=data_sha256)
