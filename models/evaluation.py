"""The figures of a trained ensemble: held-out and per-fold metrics beside naive baselines, and
the leakage suite (``models.leakage``: shuffled-label control, implausible-AUC and single-feature
scans, and the label-edge scan that catches a subtle leak), and the held-out skill rows.

The held-out slice is scored exactly as ``Ensemble.predict`` scores it. An AUC is reported with
its chance band: rows seconds apart share one label window, so the band is set by the number of
independent windows, not rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from models import metrics
from models.ensemble import META_INPUTS, meta_inputs
from models.meta_policy import apply_calibration, momentum_probability, neutralise, time_blocks
from models.skill import skill_row
from models.labels import Horizons
from models.manifest import MODEL_NAMES, REGIMES
from models.stacking import BoosterFitter, FinalModels, predict
from models.training_config import TrainConfig
from models.training_data import Targets, TrainingData, label_horizon_ns
from models.leakage import leakage_suite
from models.validation import FoldRun, effective_label_count

Metrics = dict[str, Any]


def predict_held_out(data: TrainingData, final: FinalModels, weighted: dict[str, bool],
                     calibration: dict[str, Any]) -> dict[str, np.ndarray]:
    """Every model's predictions for the held-out rows; ``meta`` is the ensemble's calibrated
    probability computed from the specialists' exactly as ``Ensemble.predict`` does in serving,
    ``meta_uncalibrated`` the meta booster's own output."""
    held = data.held_out_rows
    x = data.specialist_inputs[held]
    boosters = final.boosters
    trend_p, reversion_p, log_vol = (predict(boosters[n], x) for n in ("trend", "mean_reversion", "volatility"))
    regime_p = predict(boosters["regime"], x).reshape(len(held), len(REGIMES))
    inputs = neutralise(meta_inputs(trend_p, reversion_p, log_vol, regime_p.argmax(axis=1), data.raw_inputs[held]),
                        [*META_INPUTS, *data.raw_features], weighted)
    p_meta = predict(boosters["meta"], inputs)
    p_up = apply_calibration(calibration, trend_p if calibration["source"] == "trend" else p_meta)
    return {"trend": trend_p, "mean_reversion": reversion_p, "volatility": log_vol, "regime": regime_p, "meta": p_up,
            "meta_uncalibrated": p_meta}


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
    skill: list[dict[str, Any]]  # models.skill rows: held-out metric, interval, baselines, beats


SKILL_METRICS = {"trend": ("log_loss", "brier", "accuracy"), "mean_reversion": ("log_loss", "brier", "accuracy"),
                 "meta": ("log_loss", "brier", "accuracy"), "volatility": ("mse_log_rv", "qlike"),
                 "regime": ("multiclass_log_loss", "multiclass_accuracy")}


def held_out_skill(data: TrainingData, targets: Targets, final: FinalModels, predictions: dict[str, np.ndarray],
                   calibration: dict[str, Any]) -> list[dict[str, Any]]:
    """Per model, symbol (and ALL) and metric: the held-out figure beside its baselines (``models.skill``)."""
    held = data.held_out_rows
    symbols = data.frame["symbol"].to_numpy()[held]
    blocks = time_blocks(data.timestamps[held])
    rows: list[dict[str, Any]] = []
    for name, metric_names in SKILL_METRICS.items():
        y = targets.values[name][held]
        fit = final.train_rows["meta" if name == "meta" else name]
        predicted = predictions[name]
        if name == "volatility":
            past = targets.past_volatility[held]
            ok = np.isfinite(y) & (past > 0)
            actual, model = {"mse_log_rv": y, "qlike": np.exp(2 * y)}, {"mse_log_rv": predicted,
                                                                         "qlike": np.exp(2 * predicted)}
            safe = np.where(past > 0, past, 1.0)
            baselines = {"mse_log_rv": {"historical volatility": np.log(safe)},
                         "qlike": {"historical volatility": safe**2}}
        elif name == "regime":
            ok = np.isfinite(y)
            counts = np.bincount(targets.values[name][fit].astype(np.int64), minlength=len(REGIMES))
            frequency = np.tile(counts / counts.sum(), (len(y), 1))
            actual = {m: y for m in metric_names}
            model = {m: predicted for m in metric_names}
            baselines = {m: {"training frequencies": frequency} for m in metric_names}
        else:
            ok = np.isfinite(y)
            y_fit = targets.values[name][fit]
            base = {"base rate": np.full(len(y), float(np.nanmean(y_fit))), "0.5 (no information)": np.full(len(y), 0.5)}
            past = targets.past_returns.get(name)
            if past is not None:
                base["momentum"] = momentum_probability(y_fit, past[fit], past[held])
            if name == "meta" and "trend" in calibration.get("candidates", {}):
                trend = calibration["candidates"]["trend"]
                base["trend specialist (Platt)"] = apply_calibration(trend, predictions["trend"])
            actual = {m: y for m in metric_names}
            model = {m: predicted for m in metric_names}
            baselines = {m: base for m in metric_names}
        for symbol in ["ALL", *sorted(set(symbols))]:
            mask = ok & ((symbols == symbol) if symbol != "ALL" else True)
            if mask.sum() < 50:
                continue
            for metric in metric_names:
                row = skill_row(name, str(symbol), metric, actual[metric][mask], model[metric][mask],
                                {b: v[mask] for b, v in baselines[metric].items()}, blocks[mask])
                rows.append(row.to_dict())
    return rows


def evaluate_ensemble(config: TrainConfig, data: TrainingData, targets: Targets, fitter: BoosterFitter,
                      runs: dict[str, list[FoldRun]], final: FinalModels,
                      predictions: dict[str, np.ndarray], calibration: dict[str, Any]) -> Evaluation:
    """Held-out metrics of the final models, fold metrics of every walk-forward run, the leakage
    suite, and the held-out skill rows."""
    held_out = held_out_metrics(data, targets, config.horizons, final, predictions)
    folds = fold_metrics(data, targets, config.horizons, runs)
    return Evaluation(held_out, folds, leakage_suite(config, data, targets, folds, fitter),
                      held_out_skill(data, targets, final, predictions, calibration))
