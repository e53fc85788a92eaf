"""The figures of a trained ensemble: held-out and per-fold metrics beside naive baselines, and
the leakage suite (shuffled-label control, implausible-AUC and single-feature scans).

The held-out slice is scored exactly as ``Ensemble.predict`` scores it. An AUC is reported with
its chance band: rows seconds apart share one label window, so the band is set by the number of
independent windows, not rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from models import metrics
from models.ensemble import meta_inputs
from models.labels import Horizons
from models.manifest import MODEL_NAMES, REGIMES
from models.stacking import BoosterFitter, FinalModels, predict
from models.training_config import TrainConfig
from models.training_data import Targets, TrainingData, label_horizon_ns
from models.validation import (FoldRun, effective_label_count, feature_leak_scan, leakage_findings, run_folds,
                               shuffled_label_check)

BINARY_MODELS = ("trend", "mean_reversion", "meta")
Metrics = dict[str, Any]


def predict_held_out(data: TrainingData, final: FinalModels) -> dict[str, np.ndarray]:
    """Every model's predictions for the held-out rows, the meta model's from the specialists' as in serving."""
    held = data.held_out_rows
    x = data.specialist_inputs[held]
    boosters = final.boosters
    trend_p, reversion_p, log_vol = (predict(boosters[n], x) for n in ("trend", "mean_reversion", "volatility"))
    regime_p = predict(boosters["regime"], x).reshape(len(held), len(REGIMES))
    p_up = predict(boosters["meta"], meta_inputs(trend_p, reversion_p, log_vol, regime_p.argmax(axis=1),
                                                 data.raw_inputs[held]))
    return {"trend": trend_p, "mean_reversion": reversion_p, "volatility": log_vol, "regime": regime_p, "meta": p_up}


def evaluate(name: str, rows: np.ndarray, predictions: np.ndarray, fit_rows: np.ndarray, data: TrainingData,
             targets: Targets, horizons: Horizons) -> Metrics:
    """Metrics of model ``name`` on global ``rows`` beside its naive baselines; ``fit_rows`` (what the
    model trained on) give the base rate and majority class those baselines predict."""
    y = targets.values[name][rows]
    ok = np.isfinite(y)
    if name == "volatility":
        return metrics.volatility_metrics(np.exp(y[ok]), np.exp(predictions[ok]), targets.past_volatility[rows][ok])
    if name == "regime":
        majority = int(np.bincount(targets.values[name][fit_rows].astype(np.int64), minlength=len(REGIMES)).argmax())
        return metrics.regime_metrics(y[ok].astype(np.int64), predictions[ok], majority)
    base_rate = float(np.mean(targets.values[name][fit_rows]))
    past = targets.past_returns[name]
    past_return = None if past is None else past[rows][ok]
    out = metrics.calibrated_classifier_metrics(y[ok], predictions[ok], base_rate, past_return)
    # Rows seconds apart share one label window: the chance band of this AUC is set by the
    # number of independent windows, not rows (2 standard errors, ~95%).
    n_eff = effective_label_count(data.symbol_codes, data.timestamps, rows[ok], label_horizon_ns(name, horizons))
    out["effective_labels"] = n_eff
    out["chance_auc_band"] = metrics.null_auc_bound(max(round(n_eff * y[ok].mean()), 1),
                                                    max(round(n_eff * (1 - y[ok].mean())), 1), z=2.0)
    return out


def held_out_metrics(data: TrainingData, targets: Targets, horizons: Horizons, final: FinalModels,
                     predictions: dict[str, np.ndarray]) -> dict[str, Metrics]:
    return {name: evaluate(name, data.held_out_rows, predictions[name], final.train_rows[name], data, targets, horizons)
            for name in MODEL_NAMES}


def fold_metrics(data: TrainingData, targets: Targets, horizons: Horizons,
                 runs: dict[str, list[FoldRun]]) -> dict[str, list[Metrics]]:
    """Per model, one entry per walk-forward fold: the fold's extent and its test-block metrics."""
    development_rows = data.development_rows
    return {
        name: [{**run.fold.summary(), **evaluate(name, development_rows[run.test_rows], run.predictions,
                                                 development_rows[run.train_rows], data, targets, horizons)}
               for run in model_runs]
        for name, model_runs in runs.items()
    }


@dataclass(frozen=True)
class Evaluation:
    held_out: dict[str, Metrics]  # per model, on the held-out slice
    folds: dict[str, list[Metrics]]  # per model, per walk-forward fold
    leakage: dict[str, Any]


def evaluate_ensemble(config: TrainConfig, data: TrainingData, targets: Targets, fitter: BoosterFitter,
                      runs: dict[str, list[FoldRun]], final: FinalModels,
                      predictions: dict[str, np.ndarray]) -> Evaluation:
    """Held-out metrics of the final models, fold metrics of every walk-forward run, and the leakage suite."""
    held_out = held_out_metrics(data, targets, config.horizons, final, predictions)
    folds = fold_metrics(data, targets, config.horizons, runs)
    return Evaluation(held_out, folds, leakage_suite(config, data, targets, folds, fitter))


def leakage_suite(config: TrainConfig, data: TrainingData, targets: Targets, folds_metrics: dict[str, list[Metrics]],
                  fitter: BoosterFitter) -> dict[str, Any]:
    """The leakage checks on the development range, with their findings and verdict."""
    development_rows = data.development_rows
    x = data.specialist_inputs
    rng = np.random.default_rng(config.seed)
    shuffled: dict[str, Any] = {}
    for name in config.shuffled_control:
        target = targets.values[name].copy()
        target[development_rows] = rng.permutation(target[development_rows])

        def fit_predict(train_local: np.ndarray, test_local: np.ndarray, name: str = name,
                        target: np.ndarray = target) -> np.ndarray:
            return predict(fitter.fit(name, x, development_rows[train_local], target), x[development_rows[test_local]])

        control_runs = run_folds(data.folds, target[development_rows], fit_predict)
        shuffled[name] = shuffled_label_check(control_runs, target[development_rows], config.leakage.shuffle_z)
    suspicious = {}
    for name in BINARY_MODELS:
        labelled = development_rows[np.isfinite(targets.values[name][development_rows])]
        n_eff = effective_label_count(data.symbol_codes, data.timestamps, labelled,
                                      label_horizon_ns(name, config.horizons))
        suspicious[name] = feature_leak_scan(x, targets.values[name], data.specialist_features, development_rows,
                                             config.leakage, n_eff)
    aucs = {name: [float(f["auc"]) for f in folds_metrics[name]] for name in BINARY_MODELS}
    findings = leakage_findings(aucs, suspicious, config.leakage)
    findings += [f"{name}: shuffled-label AUC left 0.5 +- bound on a fold" for name, s in shuffled.items()
                 if not s["passed"]]
    return {"shuffled_labels": shuffled, "suspicious_features": suspicious, "findings": findings,
            "passed": not findings, "thresholds": asdict(config.leakage)}
