"""Train the ensemble from a features table: three specialists, a regime model, a stacked meta model.

The table is what the ``backfill`` flow wrote (same operators as live): ``symbol``, ``ts_ns``,
``price`` and one float column per feature (NaN = not ready). Time is split once, by
quantiles of the rows' timestamps (not wall-clock time, which overnight gaps would distort):

    [ development (first 80%) ] embargo [ held out (last 20%): touched once, for the final numbers ]

Inside the development range, walk-forward folds (``models.validation``: purged, embargoed)
fit every specialist and the regime classifier on the past and predict the next block:

    fold 1: [train] purge [test]
    fold 2: [train      ] purge [test]
    ...

The regime classifier of each fold learns regimes from a Gaussian mixture fitted on that
fold's training rows only. Those out-of-fold predictions (with the specialists' confidences and
the predicted regime) are the only rows the meta model ever trains on, so it learns how much to trust each
specialist from predictions made on data that specialist never saw. The meta model's own
fold metrics come from a second walk-forward over the out-of-fold blocks. The shipped
specialists and regime classifier are then refit on the whole development range, the meta
model on all out-of-fold rows, and the held-out slice is scored exactly as ``Ensemble.predict``
scores it. Specialists without out-of-fold skill get no weight in the meta model, and the
ensemble's probability is the Platt-calibrated source (meta, trend or base rate) that beat the
base rate on out-of-fold blocks (``models.meta_policy``). The leakage suite (shuffled-label control, implausible-AUC and single-feature
scans) runs on the development range; its verdict is stored with the metrics.

``train_ensemble`` writes the five XGBoost JSON models, the regime mixture (JSON),
``manifest.json`` and the validation report (``report.html``, ``report.md``, PNG plots).

``fit_ensemble`` is the list of stages; each lives beside it: ``training_config`` (what decides
a model), ``training_data`` (features, time split, folds, regime labels, targets), ``stacking``
(walk-forward, out-of-fold and final fits), ``evaluation`` (metrics, baselines, leakage suite)
and ``training_manifest`` (the manifest before it is written).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from models.evaluation import evaluate_ensemble, predict_held_out
from models.manifest import MODEL_NAMES, hashed_files, model_version, scoring_settings, write_manifest
from models.regime import GaussianMixtureRegimes
from models.stacking import (BoosterFitter, FinalModels, choose_meta_output, fit_final_models, fit_meta_folds,
                             fit_out_of_fold, fold_training_rows, gate_out_of_fold)
from models.training_config import DEFAULT_EXCLUDED_FEATURES, DEFAULT_META_RAW_FEATURES, TrainConfig
from models.training_data import (feature_columns, fit_regime_mixture, prepare_training_data, training_targets,
                                  used_features)
from models.training_manifest import GMM_FILE, Manifest, assemble_manifest
from models.validation import FoldRun

__all__ = [
    "DEFAULT_EXCLUDED_FEATURES", "DEFAULT_META_RAW_FEATURES", "Manifest", "TrainConfig", "TrainedEnsemble",
    "feature_columns", "fit_ensemble", "save_ensemble", "train_ensemble", "used_features",
]


@dataclass
class TrainedEnsemble:
    """What ``fit_ensemble`` produced, before anything is written.

    ``seen`` records, per stage, the global row indices it trained on (``"<model>/fold<k>"``,
    ``"<model>/final"``, ``"meta/final"``) and ``oof_fold`` the fold whose specialists
    predicted each row for the meta model (-1: none), so tests can check by construction that
    the meta model only ever trained on out-of-fold predictions.
    """

    boosters: dict[str, xgb.Booster]
    gmm: GaussianMixtureRegimes
    manifest: Manifest
    seen: dict[str, np.ndarray]
    oof_fold: np.ndarray
    oof_meta_inputs: np.ndarray  # meta model inputs of every development row (NaN where no fold predicted it)


def train_ensemble(
    frame: pd.DataFrame,
    out_dir: Path,
    config: TrainConfig = TrainConfig(),
    labels: pd.DataFrame | None = None,
    progress: Callable[[str], None] | None = None,
    parts: dict[str, dict] | None = None,
) -> Manifest:
    """Train on ``frame``; write the models, the regime mixture, ``manifest.json`` and the report
    to ``out_dir``. ``labels`` (aligned with ``frame``) defaults to ``make_labels(frame,
    config.horizons)``; passing them lets research try other targets (or shuffled ones, as a
    control). Returns the manifest that was written."""
    trained = fit_ensemble(frame, config, labels, progress)
    if progress is not None:
        progress("writing the models and the validation report")
    return save_ensemble(trained, Path(out_dir), config, parts)


def save_ensemble(trained: TrainedEnsemble, out_dir: Path, config: TrainConfig,
                  parts: dict[str, dict] | None = None) -> Manifest:
    """Write the models, the manifest and the report. ``parts`` are the manifest sections of models
    already written under ``out_dir`` (``micro``, ``bars``: each with its ``dir`` and ``files``);
    their files enter the version like the ensemble's own."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = trained.manifest
    manifest.update(parts or {})
    for name in MODEL_NAMES:
        trained.boosters[name].save_model(str(out_dir / manifest["models"][name]["file"]))
    trained.gmm.save(out_dir / GMM_FILE)
    if config.write_report:
        from models.report import REPORT_FILES

        manifest["report"] = dict(REPORT_FILES)
    manifest["version"] = model_version(hashed_files(out_dir, manifest), manifest["feature_names"],
                                        scoring_settings(manifest))
    write_manifest(out_dir, manifest)
    if config.write_report:
        from models.report import write_report

        write_report(out_dir)
    return manifest


def fit_ensemble(frame: pd.DataFrame, config: TrainConfig = TrainConfig(),
                 labels: pd.DataFrame | None = None, progress: Callable[[str], None] | None = None) -> TrainedEnsemble:
    """Walk-forward fit, out-of-fold stacking, final refit and held-out scoring (no files).
    ``progress`` hears one line per stage."""
    say = progress or (lambda _: None)
    say(f"labels and time split of {len(frame):,} rows")
    data = prepare_training_data(frame, config, labels)
    regimes = fit_regime_mixture(data, config.regime)
    targets = training_targets(data.labels, regimes)
    fitter = BoosterFitter(config, targets, data.development_rows)
    say(f"walk-forward specialists and regime classifier ({len(data.folds)} folds)")
    stacked, gate = gate_out_of_fold(data, targets, fit_out_of_fold(data, targets, fitter, regimes))
    say("meta model folds and calibration; specialists with out-of-fold skill: "
        + (", ".join(name for name, keep in gate.weighted.items() if keep) or "none"))
    runs = {**stacked.runs, "meta": fit_meta_folds(data, targets, fitter, stacked)}
    calibration = choose_meta_output(data, targets, stacked, runs["meta"], gate, config.require_skill)
    say(f"final refits (ensemble probability from {calibration['source']})")
    final = fit_final_models(data, targets, fitter, stacked)
    held_out_predictions = predict_held_out(data, final, gate.weighted, calibration)
    say("held-out scoring, bootstrap intervals and leakage suite")
    evaluation = evaluate_ensemble(config, data, targets, fitter, runs, final, held_out_predictions, calibration)
    manifest = assemble_manifest(config, data, regimes, stacked, final, held_out_predictions["regime"].argmax(axis=1),
                                 evaluation, gate, calibration)
    return TrainedEnsemble(final.boosters, regimes.mixture, manifest,
                           seen=_rows_seen(runs, final, data.development_rows),
                           oof_fold=_fold_by_row(len(frame), data.development_rows, stacked.fold),
                           oof_meta_inputs=stacked.meta_inputs)


def _rows_seen(runs: dict[str, list[FoldRun]], final: FinalModels,
               development_rows: np.ndarray) -> dict[str, np.ndarray]:
    return {**fold_training_rows(runs, development_rows),
            **{f"{name}/final": rows for name, rows in final.train_rows.items()}}


def _fold_by_row(n_rows: int, development_rows: np.ndarray, fold: np.ndarray) -> np.ndarray:
    by_row = np.full(n_rows, -1, dtype=np.int64)
    by_row[development_rows] = fold
    return by_row
