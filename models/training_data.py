"""What every training stage reads: the frame as arrays, split in time once, and the targets.

``prepare_training_data`` checks the features and cuts the rows into a development range and a
held-out slice ``config.embargo`` apart, with walk-forward folds inside the development range.
``fit_regime_mixture`` labels every row with a regime (the Gaussian mixture, fitted on the
development range only), and ``training_targets`` puts the labels of all five models side by side.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.labels import Horizons, make_labels
from models.regime import GaussianMixtureRegimes, RegimeConfig, regime_inputs
from models.training_config import TrainConfig
from models.validation import Fold, walk_forward_folds

RESERVED_COLUMNS = ("symbol", "ts_ns", "price")


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """The stream's feature columns: every column but symbol, ts_ns and price, in table order."""
    return [c for c in frame.columns if c not in RESERVED_COLUMNS]


def used_features(feature_names: list[str], exclude: tuple[str, ...]) -> list[str]:
    return [f for f in feature_names if not any(fnmatch.fnmatchcase(f, pattern) for pattern in exclude)]


@dataclass(frozen=True)
class TrainingData:
    """The features table as arrays, with its time split and folds.

    Local index ``i`` of the development range is global row ``development_rows[i]``; the folds
    index the development range locally.
    """

    frame: pd.DataFrame
    labels: pd.DataFrame
    feature_names: list[str]  # every feature column, in stream order
    specialist_features: list[str]  # what the specialists and the regime classifier read
    raw_features: list[str]  # the raw features the meta model reads beside the specialists' outputs
    timestamps: np.ndarray
    symbol_codes: np.ndarray
    development: np.ndarray  # row mask
    held_out: np.ndarray  # row mask
    development_rows: np.ndarray
    held_out_rows: np.ndarray
    folds: list[Fold]
    specialist_inputs: np.ndarray  # rows x specialist_features
    raw_inputs: np.ndarray  # rows x raw_features


def prepare_training_data(frame: pd.DataFrame, config: TrainConfig, labels: pd.DataFrame | None) -> TrainingData:
    feature_names = feature_columns(frame)
    non_numeric = [f for f in feature_names if not pd.api.types.is_numeric_dtype(frame[f])]
    if non_numeric:
        raise ValueError(f"train_ensemble needs numeric feature columns; {non_numeric} are not")
    specialist_features = used_features(feature_names, config.exclude_features)
    if not specialist_features:
        raise ValueError(f"exclude_features {config.exclude_features} removes every feature of {feature_names}")
    raw_features = [f for f in config.meta_raw_features if f in specialist_features]
    if labels is None:
        labels = make_labels(frame, config.horizons)
    elif not labels.index.equals(frame.index):
        raise ValueError("train_ensemble got labels whose index differs from the frame's; build them with make_labels(frame)")

    timestamps = frame["ts_ns"].to_numpy(dtype=np.int64)
    development, held_out = split_in_time(timestamps, config)
    development_rows = np.flatnonzero(development)
    return TrainingData(
        frame=frame,
        labels=labels,
        feature_names=feature_names,
        specialist_features=specialist_features,
        raw_features=raw_features,
        timestamps=timestamps,
        symbol_codes=pd.factorize(frame["symbol"], sort=True)[0],
        development=development,
        held_out=held_out,
        development_rows=development_rows,
        held_out_rows=np.flatnonzero(held_out),
        folds=walk_forward_folds(timestamps[development_rows], config.walk_forward, config.horizons.longest_ns),
        specialist_inputs=frame[specialist_features].to_numpy(dtype=np.float64),
        raw_inputs=frame[raw_features].to_numpy(dtype=np.float64),
    )


def split_in_time(timestamps: np.ndarray, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Development and held-out row masks, ``config.embargo`` apart: held out from
    ``config.held_out_from_ns`` when set, else the last ``validation_fraction`` of the rows."""
    if config.held_out_from_ns is not None:
        validation_start = int(config.held_out_from_ns)
    else:
        validation_start = int(np.quantile(timestamps, 1.0 - config.validation_fraction, method="lower"))
    development = timestamps < validation_start - config.embargo
    held_out = timestamps >= validation_start
    if not development.any() or not held_out.any():
        raise ValueError(f"the data spans too little time for a {config.embargo} ns embargo before the held-out slice")
    return development, held_out


@dataclass(frozen=True)
class RegimeLabels:
    mixture: GaussianMixtureRegimes
    codes: np.ndarray  # per row: the regime's index as a float, NaN where the mixture has no label
    inputs: pd.DataFrame  # the mixture's inputs per row (trailing windows: nothing after the row)
    config: RegimeConfig

    def fit_on(self, rows: np.ndarray) -> np.ndarray:
        """Labels of ``rows`` from a mixture fitted on those rows alone (inside a training fold)."""
        mixture = GaussianMixtureRegimes.fit(self.inputs.iloc[rows], self.config)
        codes = mixture.label(self.inputs.iloc[rows]).astype(np.float64)
        codes[codes < 0] = np.nan
        return codes


def fit_regime_mixture(data: TrainingData, config: RegimeConfig) -> RegimeLabels:
    """The Gaussian mixture that defines the regimes, fitted on the development range, and every row's label."""
    inputs = regime_inputs(data.frame, config)
    mixture = GaussianMixtureRegimes.fit(inputs.iloc[data.development_rows], config)
    codes = mixture.label(inputs).astype(np.float64)
    codes[codes < 0] = np.nan
    return RegimeLabels(mixture, codes, inputs, config)


@dataclass(frozen=True)
class Targets:
    """Per model, the value it learns for every row (NaN: no label), and the naive baselines' inputs."""

    values: dict[str, np.ndarray]
    past_returns: dict[str, np.ndarray | None]  # per binary model: the past-return-sign baseline's input
    past_volatility: np.ndarray  # the historical-volatility baseline's input


def training_targets(labels: pd.DataFrame, regimes: RegimeLabels) -> Targets:
    future_volatility = labels["future_volatility"].to_numpy(dtype=np.float64)
    positive = future_volatility > 0
    values = {
        "trend": labels["trend"].to_numpy(dtype=np.float64),
        "mean_reversion": labels["mean_reversion"].to_numpy(dtype=np.float64),
        "volatility": np.where(positive, np.log(np.where(positive, future_volatility, 1.0)), np.nan),
        "regime": regimes.codes,
        "meta": labels["direction"].to_numpy(dtype=np.float64),
    }
    past_returns = {"trend": labels["past_return_long"].to_numpy(dtype=np.float64), "mean_reversion": None,
                    "meta": labels["past_return_short"].to_numpy(dtype=np.float64)}
    return Targets(values, past_returns, labels["past_volatility"].to_numpy(dtype=np.float64))


def label_horizon_ns(name: str, horizons: Horizons) -> int:
    """How far ahead a binary model's label looks: the trend label the long horizon, the others the short one."""
    return horizons.long_ns if name == "trend" else horizons.short_ns
