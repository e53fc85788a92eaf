"""Train the ensemble from a features table: three specialists, a regime rule, a meta model.

The table is what the ``backfill`` flow wrote (same operators as live): ``symbol``, ``ts_ns``,
``price`` and one float column per feature (NaN = not ready). Time is cut into slices, each
separated by an embargo at least as long as the longest label horizon, so no label of an
earlier slice reads prices of a later one:

    [ specialists (60%) ] embargo [ meta (40%) ] embargo [ held out (last 20%) ]

The cuts are quantiles of the rows' timestamps (not of wall-clock time, which overnight gaps
would distort). The specialists train on the first slice; the meta model trains on their
predictions over the second slice (so it never sees in-sample specialist outputs); all metrics
come from the held-out slice.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from models import metrics
from models.ensemble import META_INPUTS, meta_inputs, regime_codes
from models.labels import SECOND_NS, Horizons, make_labels
from models.manifest import MANIFEST_FORMAT, MODEL_NAMES, model_version, scoring_settings, write_manifest

RESERVED_COLUMNS = ("symbol", "ts_ns", "price")

# Raw price levels (and quantities in price units) differ by symbol (SPY ~$170, BAC ~$14) and
# drift over time, so a tree split on them learns "which symbol / which day", not a signal.
# Glob patterns (fnmatch); names the data does not have are ignored. Ratios, returns, bps,
# z-scores and imbalances (vwap_deviation_1m, spread_bps, bollinger_percent_b_1m...) stay.
DEFAULT_EXCLUDED_FEATURES = (
    "last_price", "mid", "mid_price", "microprice", "bid", "ask", "spread",
    "vwap_[0-9]*", "sma_[0-9]*", "ema_[0-9]*",
    "bollinger_upper_*", "bollinger_lower_*", "bollinger_middle_*",
    "atr_[0-9]*", "macd_*",  # atr_bps_1m (scale free) stays
)
DEFAULT_META_RAW_FEATURES = (
    "log_return_1m", "ewma_volatility_1m", "spread_bps", "quote_imbalance", "order_flow_imbalance",
)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a trained ensemble; stored in its manifest."""

    horizons: Horizons = field(default_factory=Horizons)
    n_estimators: int = 100
    max_depth: int = 4
    learning_rate: float = 0.05
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    # Rows 1 s apart share almost all of a 5-15 min label window, so a leaf needs many rows
    # (hessian ~0.25 per row for logistic) to be more than one memorised episode.
    min_child_weight: float = 50.0
    seed: int = 7
    nthread: int = 2
    exclude_features: tuple[str, ...] = DEFAULT_EXCLUDED_FEATURES
    meta_raw_features: tuple[str, ...] = DEFAULT_META_RAW_FEATURES
    validation_fraction: float = 0.2
    meta_fraction: float = 0.4  # of the training range, the later part
    embargo_ns: int | None = None  # None: horizons.longest_ns
    dead_zone: float = 0.02

    def __post_init__(self) -> None:
        for name in ("validation_fraction", "meta_fraction"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"TrainConfig.{name} must lie in (0, 1), got {getattr(self, name)!r}")
        if self.embargo_ns is not None and self.embargo_ns < self.horizons.longest_ns:
            raise ValueError(
                f"TrainConfig.embargo_ns={self.embargo_ns} is shorter than the longest label horizon "
                f"plus tolerance ({self.horizons.longest_ns} ns), so labels would leak across the split"
            )
        if not 0.0 <= self.dead_zone < 0.5:
            raise ValueError(f"TrainConfig.dead_zone must lie in [0, 0.5), got {self.dead_zone!r}")
        if self.n_estimators < 1 or self.max_depth < 1 or self.nthread < 1:
            raise ValueError("TrainConfig.n_estimators, max_depth and nthread must be >= 1")

    @property
    def embargo(self) -> int:
        return self.horizons.longest_ns if self.embargo_ns is None else self.embargo_ns

    def xgboost_params(self, objective: str) -> dict[str, Any]:
        return {
            "objective": objective,
            "max_depth": self.max_depth,
            "eta": self.learning_rate,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
            "seed": self.seed,
            "nthread": self.nthread,
            "tree_method": "hist",
        }


Manifest = dict[str, Any]


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """The stream's feature columns: every column but symbol, ts_ns and price, in table order."""
    return [c for c in frame.columns if c not in RESERVED_COLUMNS]


def used_features(feature_names: list[str], exclude: tuple[str, ...]) -> list[str]:
    return [f for f in feature_names if not any(fnmatch.fnmatchcase(f, pattern) for pattern in exclude)]


def train_ensemble(
    frame: pd.DataFrame,
    out_dir: Path,
    config: TrainConfig = TrainConfig(),
    labels: pd.DataFrame | None = None,
) -> Manifest:
    """Train on ``frame``, write the four XGBoost JSON models and ``manifest.json`` to ``out_dir``.

    ``labels`` (aligned with ``frame``) defaults to ``make_labels(frame, config.horizons)``;
    passing them lets research try other targets (or shuffled ones, as a control).
    Returns the manifest that was written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
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

    ts = frame["ts_ns"].to_numpy(dtype=np.int64)
    slices = _time_slices(ts, config)
    x = frame[specialist_features].to_numpy(dtype=np.float64)
    horizons = config.horizons
    boosters: dict[str, xgb.Booster] = {}
    entries: dict[str, dict[str, Any]] = {}
    report: dict[str, Any] = {}

    def fit(name: str, objective: str, target: np.ndarray, inputs: np.ndarray, train_rows: np.ndarray) -> None:
        rows = train_rows & np.isfinite(target)
        data = xgb.DMatrix(inputs[rows], label=target[rows], missing=np.nan)
        boosters[name] = xgb.train(config.xgboost_params(objective), data, num_boost_round=config.n_estimators)
        entries[name] = {"file": f"{name}.json", "objective": objective, "train_rows": int(rows.sum())}

    trend = labels["trend"].to_numpy(dtype=np.float64)
    reversion = labels["mean_reversion"].to_numpy(dtype=np.float64)
    direction = labels["direction"].to_numpy(dtype=np.float64)
    future_vol = labels["future_volatility"].to_numpy(dtype=np.float64)
    log_future_vol = np.where(future_vol > 0, np.log(np.where(future_vol > 0, future_vol, 1.0)), np.nan)

    fit("trend", "binary:logistic", trend, x, slices["specialists"])
    fit("mean_reversion", "binary:logistic", reversion, x, slices["specialists"])
    fit("volatility", "reg:squarederror", log_future_vol, x, slices["specialists"])

    trend_p = _predict(boosters["trend"], x)
    reversion_p = _predict(boosters["mean_reversion"], x)
    log_vol_1s = _predict(boosters["volatility"], x)
    vol_1s = np.exp(log_vol_1s)
    meta_rows = slices["meta"]
    thresholds = [float(q) for q in np.quantile(vol_1s[meta_rows], [1 / 3, 2 / 3])]
    horizon_scale = float(np.sqrt(horizons.volatility_ns / SECOND_NS))
    reference_volatility = float(np.median(vol_1s[meta_rows]) * horizon_scale)
    raw = frame[raw_features].to_numpy(dtype=np.float64)
    meta_x = meta_inputs(trend_p, reversion_p, log_vol_1s, regime_codes(vol_1s, thresholds), raw)
    fit("meta", "binary:logistic", direction, meta_x, meta_rows)

    held_out = slices["validation"]
    past_short = labels["past_return_short"].to_numpy(dtype=np.float64)
    past_long = labels["past_return_long"].to_numpy(dtype=np.float64)
    p_up = _predict(boosters["meta"], meta_x)
    for name, target, p, past, train_rows in (
        ("trend", trend, trend_p, past_long, slices["specialists"]),
        ("mean_reversion", reversion, reversion_p, None, slices["specialists"]),
        ("meta", direction, p_up, past_short, meta_rows),
    ):
        rows = held_out & np.isfinite(target)
        base_rate = float(np.nanmean(target[train_rows & np.isfinite(target)]))
        report[name] = metrics.classifier_metrics(
            target[rows], p[rows], base_rate, None if past is None else past[rows]
        )
    rows = held_out & np.isfinite(log_future_vol)
    report["volatility"] = metrics.volatility_metrics(
        future_vol[rows], vol_1s[rows], labels["past_volatility"].to_numpy(dtype=np.float64)[rows]
    )

    files = {}
    for name in MODEL_NAMES:
        files[name] = out_dir / entries[name]["file"]
        boosters[name].save_model(str(files[name]))
    entries["trend"].update(features=specialist_features, target="trend", horizon_ns=horizons.long_ns)
    entries["mean_reversion"].update(features=specialist_features, target="mean_reversion", horizon_ns=horizons.short_ns)
    entries["volatility"].update(
        features=specialist_features, target="log_future_volatility_1s", horizon_ns=horizons.volatility_ns
    )
    entries["meta"].update(
        features=raw_features, inputs=[*META_INPUTS, *raw_features], target="direction", horizon_ns=horizons.short_ns
    )

    manifest: Manifest = {
        "format": MANIFEST_FORMAT,
        "version": "",  # set below, from the files and the scoring settings
        "feature_names": feature_names,
        "horizon_ns": horizons.short_ns,
        "horizons": asdict(horizons),
        "models": entries,
        "regime": {
            "method": "volatility_terciles",
            "note": "v1: predicted per-second volatility vs terciles on the meta slice; issue 4 brings the clustering regime model",
            "thresholds": thresholds,
            "labels": ["calm", "normal", "turbulent"],
        },
        "dead_zone": float(config.dead_zone),
        "score": {"reference_volatility": reference_volatility},
        "metrics": report,
        "created_from": _data_range(frame, slices),
        "xgboost_version": xgb.__version__,
        "config": asdict(config),
    }
    manifest["version"] = model_version(files, feature_names, scoring_settings(manifest))
    write_manifest(out_dir, manifest)
    return manifest


def _predict(booster: xgb.Booster, inputs: np.ndarray) -> np.ndarray:
    """Exactly what ``Ensemble.predict`` computes, so meta training sees serving-time inputs."""
    return np.asarray(booster.inplace_predict(inputs), dtype=np.float64)


def _time_slices(ts: np.ndarray, config: TrainConfig) -> dict[str, np.ndarray]:
    """Boolean row masks for the specialists, meta and held-out slices, embargoed apart."""
    validation_start = int(np.quantile(ts, 1.0 - config.validation_fraction, method="lower"))
    train_end = validation_start - config.embargo
    before = ts < train_end
    if not before.any():
        raise ValueError(
            f"the data spans too little time for a {config.embargo} ns embargo before the held-out slice"
        )
    meta_start = int(np.quantile(ts[before], 1.0 - config.meta_fraction, method="lower"))
    masks = {
        "specialists": ts < meta_start - config.embargo,
        "meta": (ts >= meta_start) & before,
        "validation": ts >= validation_start,
    }
    for name, mask in masks.items():
        if not mask.any():
            raise ValueError(f"the {name} slice is empty: the data spans too little time for the horizons and embargo")
    return masks


def _data_range(frame: pd.DataFrame, slices: Mapping[str, np.ndarray]) -> dict[str, Any]:
    ts = frame["ts_ns"].to_numpy(dtype=np.int64)
    created: dict[str, Any] = {
        "ts_min_ns": int(ts.min()),
        "ts_max_ns": int(ts.max()),
        "symbols": sorted(str(s) for s in frame["symbol"].unique()),
        "rows": int(len(frame)),
    }
    for name, mask in slices.items():
        created[f"{name}_rows"] = int(mask.sum())
        created[f"{name}_ts_ns"] = [int(ts[mask].min()), int(ts[mask].max())]
    return created
