"""The manifest of a freshly trained ensemble: what each model reads and learns, the regime
mixture, the score's reference, every figure and the data it came from. Its ``version`` is
left empty until the files are written (``models.manifest`` hashes them)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from models.ensemble import META_INPUTS
from models.evaluation import Evaluation
from models.labels import SECOND_NS
from models.manifest import MANIFEST_FORMAT, REGIMES
from models.meta_policy import SpecialistGate
from models.stacking import FinalModels, OutOfFold
from models.training_config import OBJECTIVES, TrainConfig
from models.training_data import RegimeLabels, TrainingData

GMM_FILE = "regime_gmm.json"
Manifest = dict[str, Any]


def assemble_manifest(config: TrainConfig, data: TrainingData, regimes: RegimeLabels, stacked: OutOfFold,
                      final: FinalModels, held_out_regime: np.ndarray, evaluation: Evaluation, gate: SpecialistGate,
                      calibration: dict[str, Any]) -> Manifest:
    """``held_out_regime`` is the classifier's regime code per held-out row."""
    horizons = config.horizons
    vol_1s_meta = np.exp(stacked.predictions["volatility"][stacked.predicted])
    horizon_scale = float(np.sqrt(horizons.volatility_ns / SECOND_NS))
    return {
        "format": MANIFEST_FORMAT,
        "version": "",  # set when the files are written
        "feature_names": data.feature_names,
        "horizon_ns": horizons.short_ns,
        "horizons": asdict(horizons),
        "models": _model_entries(config, data, final, gate),
        "calibration": calibration,
        "regime": {
            "method": "gaussian_mixture+xgboost",
            "labels": list(REGIMES),
            "gmm_file": GMM_FILE,
            "gmm_inputs": regimes.mixture.inputs,
            "window_ns": config.regime.window_ns,
            "thresholds": [float(q) for q in np.quantile(vol_1s_meta, [1 / 3, 2 / 3])],
            "thresholds_note": "informational: terciles of out-of-fold per-second volatility; the classifier decides",
            "distribution": _regime_distribution(data, regimes.codes, held_out_regime),
        },
        "dead_zone": float(config.dead_zone),
        "score": {
            "reference_volatility": float(np.median(vol_1s_meta) * horizon_scale),
            "formula": "(2 p_up - 1) * reference_volatility / max(volatility, 1e-12)",
        },
        "metrics": evaluation.held_out,
        "skill": evaluation.skill,
        "validation": {
            "scheme": config.walk_forward.scheme,
            "n_folds": config.walk_forward.n_folds,
            "embargo_ns": config.walk_forward.embargo_ns or horizons.longest_ns,
            "label_reach_ns": horizons.longest_ns,
            "folds": evaluation.folds,
            "meta_training": "out-of-fold specialist and regime predictions of folds 1..n; "
                             "meta folds train on earlier out-of-fold blocks only",
            "leakage": evaluation.leakage,
            "specialist_skill_out_of_fold": [row.to_dict() for row in gate.skill],
        },
        "created_from": _data_range(data.frame, {"specialists": data.development,
                                                 "meta": _mask(len(data.frame), final.train_rows["meta"]),
                                                 "validation": data.held_out}),
        "xgboost_version": xgb.__version__,
        "config": asdict(config),
    }


def _model_entries(config: TrainConfig, data: TrainingData, final: FinalModels,
                   gate: SpecialistGate) -> dict[str, dict[str, Any]]:
    horizons = config.horizons
    features, raw_features = data.specialist_features, data.raw_features
    entries: dict[str, dict[str, Any]] = {
        "trend": {"features": features, "target": "trend", "horizon_ns": horizons.long_ns},
        "mean_reversion": {"features": features, "target": "mean_reversion", "horizon_ns": horizons.short_ns},
        "volatility": {"features": features, "target": "log_future_volatility_1s",
                       "horizon_ns": horizons.volatility_ns},
        "regime": {"features": features, "target": "gaussian_mixture_regime", "classes": list(REGIMES)},
        "meta": {"features": raw_features, "inputs": [*META_INPUTS, *raw_features], "target": "direction",
                 "horizon_ns": horizons.short_ns, "trained_on": "out_of_fold_predictions",
                 "weighted": dict(gate.weighted)},
    }
    for name, entry in entries.items():
        entry.update(file=f"{name}.json", objective=OBJECTIVES[name], train_rows=int(len(final.train_rows[name])))
    return entries


def _mask(n: int, rows: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return mask


def _regime_distribution(data: TrainingData, codes: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    def counts(values: np.ndarray) -> dict[str, int]:
        values = values[np.isfinite(values)].astype(np.int64)
        return {label: int((values == i).sum()) for i, label in enumerate(REGIMES)}

    held = data.held_out_rows
    symbols = data.frame["symbol"].to_numpy()
    return {
        "mixture_development": counts(codes[data.development]),
        "mixture_held_out": counts(codes[data.held_out]),
        "classifier_held_out": counts(predicted.astype(np.float64)),
        "classifier_held_out_by_symbol": {str(s): counts(predicted[symbols[held] == s].astype(np.float64))
                                          for s in sorted(set(symbols[held]))},
    }


def _data_range(frame: pd.DataFrame, slices: dict[str, np.ndarray]) -> dict[str, Any]:
    ts = frame["ts_ns"].to_numpy(dtype=np.int64)
    created: dict[str, Any] = {
        "ts_min_ns": int(ts.min()),
        "ts_max_ns": int(ts.max()),
        "symbols": sorted(str(s) for s in frame["symbol"].unique()),
        "rows": int(len(frame)),
    }
    for name, mask in slices.items():
        created[f"{name}_rows"] = int(mask.sum())
        created[f"{name}_ts_ns"] = [int(ts[mask].min()), int(ts[mask].max())] if mask.any() else []
    return created
