"""Out-of-fold stacking: the specialists and the regime classifier per walk-forward fold, the
meta model on their out-of-fold predictions, and the final refits that ship.

Every fold of every model trains on the past of its test block only (``models.validation``:
purged, embargoed). The out-of-fold predictions, with the specialists' confidences and the
predicted regime, are the only rows the meta model trains on; its own folds walk forward over
those blocks (fold 1's block trains fold 2...). The shipped specialists and regime classifier
are refit on the whole development range, the meta model on every out-of-fold row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import xgboost as xgb

from models.ensemble import META_INPUTS, meta_inputs
from models.manifest import REGIMES
from models.meta_policy import SpecialistGate, choose_output, gate_specialists, momentum_probability, neutralise
from models.training_config import OBJECTIVES, TrainConfig
from models.training_data import RegimeLabels, Targets, TrainingData
from models.validation import Fold, FoldRun, out_of_fold, run_folds

FEATURE_MODELS = ("trend", "mean_reversion", "volatility", "regime")  # the models that read the features
MIN_FOLD_TRAIN_ROWS = 50


def predict(booster: xgb.Booster, inputs: np.ndarray) -> np.ndarray:
    """Exactly what ``Ensemble.predict`` computes, so the meta model trains on serving-time inputs."""
    return np.asarray(booster.inplace_predict(inputs), dtype=np.float64)


def uninformed(name: str, rows: int) -> np.ndarray:
    """What a fold predicts when it has too few training rows: no information (0.5, uniform, NaN)."""
    if name == "regime":
        return np.full((rows, len(REGIMES)), 1.0 / len(REGIMES))
    return np.full(rows, np.nan if name == "volatility" else 0.5)


@dataclass(frozen=True)
class BoosterFitter:
    """Fits one model of the ensemble with its objective and rounds on given rows of given inputs."""

    config: TrainConfig
    targets: Targets
    development_rows: np.ndarray

    def fit(self, name: str, inputs: np.ndarray, rows: np.ndarray, target: np.ndarray | None = None) -> xgb.Booster:
        """Fit model ``name`` on global ``rows``; ``target`` replaces its own (a shuffled control)."""
        y = self.targets.values[name] if target is None else target
        data = xgb.DMatrix(inputs[rows], label=y[rows], missing=np.nan)
        rounds = self.config.regime_estimators if name == "regime" else self.config.n_estimators
        return xgb.train(self.config.xgboost_params(OBJECTIVES[name]), data, num_boost_round=rounds)

    def fold_fit_predict(self, name: str, inputs: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """A ``run_folds`` callback over local development rows."""
        development_rows = self.development_rows

        def fit_predict(train_local: np.ndarray, test_local: np.ndarray) -> np.ndarray:
            if len(train_local) < MIN_FOLD_TRAIN_ROWS:  # e.g. no regime labels yet in an early, warming-up fold
                return uninformed(name, len(test_local))
            return predict(self.fit(name, inputs, development_rows[train_local]), inputs[development_rows[test_local]])

        return fit_predict


@dataclass(frozen=True)
class OutOfFold:
    """The walk-forward runs of the models that read the features, stacked per development row."""

    runs: dict[str, list[FoldRun]]
    predictions: dict[str, np.ndarray]  # per model, per local development row (NaN: no fold predicted it)
    fold: np.ndarray  # per local development row, the fold whose models predicted it (-1: none)
    meta_inputs: np.ndarray  # the meta model's inputs per local development row (NaN where no fold predicted it)
    meta_inputs_by_row: np.ndarray  # the same per global row, zero outside the development range

    @property
    def predicted(self) -> np.ndarray:
        return self.fold >= 0


def regime_fold_fit_predict(fitter: BoosterFitter, inputs: np.ndarray,
                            regimes: RegimeLabels) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A ``run_folds`` callback for the regime classifier whose regimes come from a Gaussian
    mixture fitted inside the fold's training rows, so no fold learns a regime definition that
    saw its test block."""
    development_rows = fitter.development_rows

    def fit_predict(train_local: np.ndarray, test_local: np.ndarray) -> np.ndarray:
        if len(train_local) < MIN_FOLD_TRAIN_ROWS:
            return uninformed("regime", len(test_local))
        rows = development_rows[train_local]
        target = np.full(len(inputs), np.nan)
        target[rows] = regimes.fit_on(rows)
        labelled = rows[np.isfinite(target[rows])]
        if len(labelled) < MIN_FOLD_TRAIN_ROWS or len(np.unique(target[labelled])) < len(REGIMES):
            return uninformed("regime", len(test_local))
        return predict(fitter.fit("regime", inputs, labelled, target), inputs[development_rows[test_local]])

    return fit_predict


def fit_out_of_fold(data: TrainingData, targets: Targets, fitter: BoosterFitter, regimes: RegimeLabels) -> OutOfFold:
    """Walk-forward fits of the specialists and the regime classifier, and the meta inputs they predict."""
    development_rows = data.development_rows
    runs: dict[str, list[FoldRun]] = {}
    predictions: dict[str, np.ndarray] = {}
    sources: dict[str, np.ndarray] = {}
    for name in FEATURE_MODELS:
        fit_predict = (regime_fold_fit_predict(fitter, data.specialist_inputs, regimes) if name == "regime"
                       else fitter.fold_fit_predict(name, data.specialist_inputs))
        runs[name] = run_folds(data.folds, targets.values[name][development_rows], fit_predict, predict_all=True)
        predictions[name], sources[name] = out_of_fold(runs[name], len(development_rows))
    fold = sources["trend"]
    if any(not np.array_equal(fold, source) for source in sources.values()):
        raise AssertionError("the specialists' out-of-fold predictions come from different folds")
    predicted = fold >= 0
    stacked = np.full((len(development_rows), len(META_INPUTS) + len(data.raw_features)), np.nan)
    stacked[predicted] = meta_inputs(
        predictions["trend"][predicted], predictions["mean_reversion"][predicted],
        predictions["volatility"][predicted], predictions["regime"][predicted].argmax(axis=1),
        data.raw_inputs[development_rows][predicted],
    )
    by_row = np.zeros((len(data.frame), stacked.shape[1]))
    by_row[development_rows] = stacked
    return OutOfFold(runs, predictions, fold, stacked, by_row)


def fit_meta_folds(data: TrainingData, targets: Targets, fitter: BoosterFitter, stacked: OutOfFold) -> list[FoldRun]:
    """The meta model's own walk-forward over the out-of-fold blocks only (fold 1's block trains fold 2...)."""
    meta_folds = [Fold(f.index, f.train & stacked.predicted, f.test, f.test_start_ns, f.test_end_ns, f.purged,
                       f.embargoed)
                  for f in data.folds[1:]]
    return run_folds(meta_folds, targets.values["meta"][data.development_rows],
                     fitter.fold_fit_predict("meta", stacked.meta_inputs_by_row))


def fold_training_rows(runs: dict[str, list[FoldRun]], development_rows: np.ndarray) -> dict[str, np.ndarray]:
    """The global rows each fold of each model trained on, as ``"<model>/fold<k>"``."""
    return {f"{name}/fold{run.fold.index}": development_rows[run.train_rows]
            for name, model_runs in runs.items() for run in model_runs}


@dataclass(frozen=True)
class FinalModels:
    """The boosters that ship and the global rows each trained on."""

    boosters: dict[str, xgb.Booster]
    train_rows: dict[str, np.ndarray]


def fit_final_models(data: TrainingData, targets: Targets, fitter: BoosterFitter, stacked: OutOfFold) -> FinalModels:
    """Specialists and regime classifier on the whole development range, meta on every out-of-fold row."""
    development_rows = data.development_rows
    boosters: dict[str, xgb.Booster] = {}
    train_rows: dict[str, np.ndarray] = {}
    for name in FEATURE_MODELS:
        train_rows[name] = development_rows[np.isfinite(targets.values[name][development_rows])]
        if len(train_rows[name]) < MIN_FOLD_TRAIN_ROWS:
            raise ValueError(f"only {len(train_rows[name])} development rows have a {name} label: "
                             "the data spans too little time for the horizons and warm-up")
        boosters[name] = fitter.fit(name, data.specialist_inputs, train_rows[name])
    train_rows["meta"] = development_rows[stacked.predicted & np.isfinite(targets.values["meta"][development_rows])]
    boosters["meta"] = fitter.fit("meta", stacked.meta_inputs_by_row, train_rows["meta"])
    return FinalModels(boosters, train_rows)


def gate_out_of_fold(data: TrainingData, targets: Targets, stacked: OutOfFold) -> tuple[OutOfFold, SpecialistGate]:
    """Score each specialist's out-of-fold predictions against its baselines; neutralise the meta
    inputs of those without skill (``models.meta_policy``)."""
    rows = data.development_rows[stacked.predicted]
    local = stacked.predicted
    y = {name: targets.values[name][rows] for name in ("trend", "mean_reversion", "volatility")}
    predicted = {name: stacked.predictions[name][local] for name in y}
    base = {name: np.full(len(rows), np.nanmean(y[name])) for name in ("trend", "mean_reversion")}
    past = targets.past_returns["trend"][rows]
    momentum = momentum_probability(y["trend"], past, past)
    past_volatility = targets.past_volatility[rows]
    historical = np.where(past_volatility > 0, np.log(np.where(past_volatility > 0, past_volatility, 1.0)),
                          np.nanmedian(y["volatility"]))
    baselines = {"trend": {"base rate": base["trend"], "momentum": momentum},
                 "mean_reversion": {"base rate": base["mean_reversion"]},
                 "volatility": {"historical volatility": historical}}
    metric = {"trend": "log_loss", "mean_reversion": "log_loss", "volatility": "mse_log_rv"}
    gate = gate_specialists(y, predicted, baselines, data.timestamps[rows], metric)
    names = [*META_INPUTS, *data.raw_features]
    inputs = stacked.meta_inputs.copy()
    inputs[local] = neutralise(inputs[local], names, gate.weighted)
    by_row = np.zeros_like(stacked.meta_inputs_by_row)
    by_row[data.development_rows] = inputs
    return replace(stacked, meta_inputs=inputs, meta_inputs_by_row=by_row), gate


def choose_meta_output(data: TrainingData, targets: Targets, stacked: OutOfFold, meta_runs: list[FoldRun],
                       gate: SpecialistGate, require_skill: bool = True) -> dict[str, Any]:
    """The calibrated source of the ensemble's probability, chosen on the meta folds' test blocks
    (the trend specialist is a candidate only when it has weight)."""
    meta_oof, source = out_of_fold(meta_runs, len(data.development_rows))
    y = targets.values["meta"][data.development_rows]
    ok = (source >= 0) & np.isfinite(y) & np.isfinite(meta_oof)
    trend = stacked.predictions["trend"]
    candidates = {"meta": meta_oof[ok], **({"trend": trend[ok]} if gate.weighted.get("trend") else {})}
    walked = np.full(len(y), np.nan)
    for run in meta_runs:  # each meta fold's training base rate, predicting its own test block
        labelled = run.train_rows[np.isfinite(y[run.train_rows])]
        walked[run.test_rows] = np.mean(y[labelled]) if len(labelled) else 0.5
    walked = np.where(np.isfinite(walked), walked, 0.5)
    final_rows = stacked.predicted & np.isfinite(y)
    return choose_output(y[ok], candidates, walked[ok], float(np.mean(y[final_rows])),
                         data.timestamps[data.development_rows][ok], require_skill=require_skill)
