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

Those out-of-fold predictions (with the specialists' confidences and the predicted regime)
are the only rows the meta model ever trains on, so it learns how much to trust each
specialist from predictions made on data that specialist never saw. The meta model's own
fold metrics come from a second walk-forward over the out-of-fold blocks. The shipped
specialists and regime classifier are then refit on the whole development range, the meta
model on all out-of-fold rows, and the held-out slice is scored exactly as ``Ensemble.predict``
scores it. The leakage suite (shuffled-label control, implausible-AUC and single-feature
scans) runs on the development range; its verdict is stored with the metrics.

``train_ensemble`` writes the five XGBoost JSON models, the regime mixture (JSON),
``manifest.json`` and the validation report (``report.html``, ``report.md``, PNG plots).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from models import metrics
from models.ensemble import META_INPUTS, meta_inputs
from models.labels import SECOND_NS, Horizons, make_labels
from models.manifest import (MANIFEST_FORMAT, MODEL_NAMES, REGIMES, hashed_files, model_version, scoring_settings,
                             write_manifest)
from models.regime import GaussianMixtureRegimes, RegimeConfig, regime_inputs
from models.validation import (Fold, FoldRun, LeakageConfig, WalkForwardConfig, effective_label_count,
                               feature_leak_scan, leakage_findings, out_of_fold, run_folds, shuffled_label_check,
                               walk_forward_folds)

RESERVED_COLUMNS = ("symbol", "ts_ns", "price")
GMM_FILE = "regime_gmm.json"
BINARY_MODELS = ("trend", "mean_reversion", "meta")
MIN_FOLD_TRAIN_ROWS = 50

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
    nthread: int = 1  # the flow and the tests share two cores; scale training with processes
    exclude_features: tuple[str, ...] = DEFAULT_EXCLUDED_FEATURES
    meta_raw_features: tuple[str, ...] = DEFAULT_META_RAW_FEATURES
    validation_fraction: float = 0.2
    embargo_ns: int | None = None  # None: horizons.longest_ns
    dead_zone: float = 0.02
    walk_forward: WalkForwardConfig = field(default_factory=WalkForwardConfig)
    regime: RegimeConfig = field(default_factory=RegimeConfig)
    leakage: LeakageConfig = field(default_factory=LeakageConfig)
    # The regime classifier costs 3 trees per round (one per class) on every scored batch, and
    # recognising a regime from the row's volatility features is a simpler task: a smaller model.
    regime_estimators: int = 40
    regime_max_depth: int = 3
    shuffled_control: tuple[str, ...] = ("trend",)  # models refit on shuffled labels as a leakage control
    write_report: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(f"TrainConfig.validation_fraction must lie in (0, 1), got {self.validation_fraction!r}")
        if self.embargo_ns is not None and self.embargo_ns < self.horizons.longest_ns:
            raise ValueError(
                f"TrainConfig.embargo_ns={self.embargo_ns} is shorter than the longest label horizon "
                f"plus tolerance ({self.horizons.longest_ns} ns), so labels would leak across the split"
            )
        if not 0.0 <= self.dead_zone < 0.5:
            raise ValueError(f"TrainConfig.dead_zone must lie in [0, 0.5), got {self.dead_zone!r}")
        if min(self.n_estimators, self.max_depth, self.nthread, self.regime_estimators, self.regime_max_depth) < 1:
            raise ValueError("TrainConfig.n_estimators, max_depth, nthread, regime_estimators and regime_max_depth "
                             "must be >= 1")
        if self.walk_forward.n_folds < 2:
            raise ValueError("TrainConfig.walk_forward.n_folds must be >= 2: the meta model's own folds need two")
        if self.regime.components != len(REGIMES):
            raise ValueError(f"TrainConfig.regime.components must be {len(REGIMES)} ({REGIMES}), "
                             f"got {self.regime.components!r}")
        unknown = sorted(set(self.shuffled_control) - {"trend", "mean_reversion"})
        if unknown:
            raise ValueError(f"TrainConfig.shuffled_control names models without a binary label: {unknown}")

    @property
    def embargo(self) -> int:
        return self.horizons.longest_ns if self.embargo_ns is None else self.embargo_ns

    def xgboost_params(self, objective: str) -> dict[str, Any]:
        params: dict[str, Any] = {
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
        if objective == "multi:softprob":
            params.update(num_class=len(REGIMES), max_depth=self.regime_max_depth)
        return params


Manifest = dict[str, Any]
OBJECTIVES = {"trend": "binary:logistic", "mean_reversion": "binary:logistic",
              "volatility": "reg:squarederror", "regime": "multi:softprob", "meta": "binary:logistic"}


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
    """Train on ``frame``; write the models, the regime mixture, ``manifest.json`` and the report
    to ``out_dir``. ``labels`` (aligned with ``frame``) defaults to ``make_labels(frame,
    config.horizons)``; passing them lets research try other targets (or shuffled ones, as a
    control). Returns the manifest that was written."""
    trained = fit_ensemble(frame, config, labels)
    return save_ensemble(trained, Path(out_dir), config)


def save_ensemble(trained: TrainedEnsemble, out_dir: Path, config: TrainConfig) -> Manifest:
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = trained.manifest
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
                 labels: pd.DataFrame | None = None) -> TrainedEnsemble:
    """Walk-forward fit, out-of-fold stacking, final refit and held-out scoring (no files)."""
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

    horizons = config.horizons
    ts = frame["ts_ns"].to_numpy(dtype=np.int64)
    development, held_out = _split(ts, config)
    dev = np.flatnonzero(development)  # local index i in the development range is global row dev[i]
    folds = walk_forward_folds(ts[dev], config.walk_forward, horizons.longest_ns)
    x = frame[specialist_features].to_numpy(dtype=np.float64)
    raw = frame[raw_features].to_numpy(dtype=np.float64)

    gmm_inputs = regime_inputs(frame, config.regime)
    gmm = GaussianMixtureRegimes.fit(gmm_inputs.iloc[dev], config.regime)
    regime_code = gmm.label(gmm_inputs).astype(np.float64)
    regime_code[regime_code < 0] = np.nan
    future_vol = labels["future_volatility"].to_numpy(dtype=np.float64)
    targets = {
        "trend": labels["trend"].to_numpy(dtype=np.float64),
        "mean_reversion": labels["mean_reversion"].to_numpy(dtype=np.float64),
        "volatility": np.where(future_vol > 0, np.log(np.where(future_vol > 0, future_vol, 1.0)), np.nan),
        "regime": regime_code,
        "meta": labels["direction"].to_numpy(dtype=np.float64),
    }
    past = {"trend": labels["past_return_long"].to_numpy(dtype=np.float64), "mean_reversion": None,
            "meta": labels["past_return_short"].to_numpy(dtype=np.float64)}
    past_vol = labels["past_volatility"].to_numpy(dtype=np.float64)

    seen: dict[str, np.ndarray] = {}
    symbol_codes = pd.factorize(frame["symbol"], sort=True)[0]
    label_horizon = {"trend": horizons.long_ns, "mean_reversion": horizons.short_ns, "meta": horizons.short_ns}

    def fit(name: str, inputs: np.ndarray, rows: np.ndarray, target: np.ndarray | None = None) -> xgb.Booster:
        y = targets[name] if target is None else target
        data = xgb.DMatrix(inputs[rows], label=y[rows], missing=np.nan)
        rounds = config.regime_estimators if name == "regime" else config.n_estimators
        return xgb.train(config.xgboost_params(OBJECTIVES[name]), data, num_boost_round=rounds)

    def fold_fit_predict(name: str, inputs: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        def fit_predict(train_local: np.ndarray, test_local: np.ndarray) -> np.ndarray:
            if len(train_local) < MIN_FOLD_TRAIN_ROWS:  # e.g. no regime labels yet in an early, warming-up fold
                return _uninformed(name, len(test_local))
            return _predict(fit(name, inputs, dev[train_local]), inputs[dev[test_local]])
        return fit_predict

    def record(name: str, model_runs: list[FoldRun]) -> list[FoldRun]:
        for run in model_runs:
            seen[f"{name}/fold{run.fold.index}"] = dev[run.train_rows]
        return model_runs

    # 1. Walk-forward: specialists and the regime classifier, out-of-fold on the development range.
    runs: dict[str, list[FoldRun]] = {}
    oof: dict[str, np.ndarray] = {}
    oof_source: dict[str, np.ndarray] = {}
    for name in ("trend", "mean_reversion", "volatility", "regime"):
        runs[name] = record(name, run_folds(folds, targets[name][dev], fold_fit_predict(name, x), predict_all=True))
        oof[name], oof_source[name] = out_of_fold(runs[name], len(dev))
    oof_fold = oof_source["trend"]
    if any(not np.array_equal(oof_fold, source) for source in oof_source.values()):
        raise AssertionError("the specialists' out-of-fold predictions come from different folds")
    has_oof = oof_fold >= 0
    oof_meta = np.full((len(dev), len(META_INPUTS) + len(raw_features)), np.nan)
    oof_meta[has_oof] = meta_inputs(oof["trend"][has_oof], oof["mean_reversion"][has_oof], oof["volatility"][has_oof],
                                    oof["regime"][has_oof].argmax(axis=1), raw[dev][has_oof])

    # 2. The meta model's own walk-forward, over the out-of-fold blocks only (fold 1's block trains fold 2...).
    meta_folds = [Fold(f.index, f.train & has_oof, f.test, f.test_start_ns, f.test_end_ns, f.purged, f.embargoed)
                  for f in folds[1:]]
    meta_global = np.zeros((len(frame), oof_meta.shape[1]))
    meta_global[dev] = oof_meta
    runs["meta"] = record("meta", run_folds(meta_folds, targets["meta"][dev], fold_fit_predict("meta", meta_global)))

    # 3. Final models: specialists and regime on the whole development range, meta on every out-of-fold row.
    boosters: dict[str, xgb.Booster] = {}
    train_rows: dict[str, np.ndarray] = {}
    for name in ("trend", "mean_reversion", "volatility", "regime"):
        train_rows[name] = dev[np.isfinite(targets[name][dev])]
        if len(train_rows[name]) < MIN_FOLD_TRAIN_ROWS:
            raise ValueError(f"only {len(train_rows[name])} development rows have a {name} label: "
                             "the data spans too little time for the horizons and warm-up")
        boosters[name] = fit(name, x, train_rows[name])
        seen[f"{name}/final"] = train_rows[name]
    train_rows["meta"] = dev[has_oof & np.isfinite(targets["meta"][dev])]
    boosters["meta"] = fit("meta", meta_global, train_rows["meta"])
    seen["meta/final"] = train_rows["meta"]

    # 4. Held out, scored as Ensemble.predict scores it.
    held = np.flatnonzero(held_out)
    trend_p, reversion_p, log_vol = (_predict(boosters[n], x[held]) for n in ("trend", "mean_reversion", "volatility"))
    regime_p = _predict(boosters["regime"], x[held]).reshape(len(held), len(REGIMES))
    p_up = _predict(boosters["meta"], meta_inputs(trend_p, reversion_p, log_vol, regime_p.argmax(axis=1), raw[held]))
    held_predictions = {"trend": trend_p, "mean_reversion": reversion_p, "volatility": log_vol, "regime": regime_p,
                        "meta": p_up}

    def evaluate(name: str, rows: np.ndarray, predictions: np.ndarray, fit_rows: np.ndarray) -> dict[str, Any]:
        y = targets[name][rows]
        ok = np.isfinite(y)
        if name == "volatility":
            return metrics.volatility_metrics(np.exp(y[ok]), np.exp(predictions[ok]), past_vol[rows][ok])
        if name == "regime":
            majority = int(np.bincount(targets[name][fit_rows].astype(np.int64), minlength=len(REGIMES)).argmax())
            return metrics.regime_metrics(y[ok].astype(np.int64), predictions[ok], majority)
        base_rate = float(np.mean(targets[name][fit_rows]))
        past_return = None if past[name] is None else past[name][rows][ok]
        out = metrics.calibrated_classifier_metrics(y[ok], predictions[ok], base_rate, past_return)
        # Rows seconds apart share one label window: the chance band of this AUC is set by the
        # number of independent windows, not rows (2 standard errors, ~95%).
        n_eff = effective_label_count(symbol_codes, ts, rows[ok], label_horizon[name])
        out["effective_labels"] = n_eff
        out["chance_auc_band"] = metrics.null_auc_bound(max(round(n_eff * y[ok].mean()), 1),
                                                        max(round(n_eff * (1 - y[ok].mean())), 1), z=2.0)
        return out

    report = {name: evaluate(name, held, held_predictions[name], train_rows[name]) for name in MODEL_NAMES}
    fold_metrics = {
        name: [{**run.fold.summary(), **evaluate(name, dev[run.test_rows], run.predictions, dev[run.train_rows])}
               for run in model_runs]
        for name, model_runs in runs.items()
    }

    # 5. Leakage suite on the development range.
    leakage = _leakage_suite(config, folds, dev, x, specialist_features, symbol_codes, ts, targets, fold_metrics, fit)

    vol_1s_meta = np.exp(oof["volatility"][has_oof])
    horizon_scale = float(np.sqrt(horizons.volatility_ns / SECOND_NS))
    held_regime = regime_p.argmax(axis=1)
    entries: dict[str, dict[str, Any]] = {
        "trend": {"features": specialist_features, "target": "trend", "horizon_ns": horizons.long_ns},
        "mean_reversion": {"features": specialist_features, "target": "mean_reversion", "horizon_ns": horizons.short_ns},
        "volatility": {"features": specialist_features, "target": "log_future_volatility_1s",
                       "horizon_ns": horizons.volatility_ns},
        "regime": {"features": specialist_features, "target": "gaussian_mixture_regime", "classes": list(REGIMES)},
        "meta": {"features": raw_features, "inputs": [*META_INPUTS, *raw_features], "target": "direction",
                 "horizon_ns": horizons.short_ns, "trained_on": "out_of_fold_predictions"},
    }
    for name, entry in entries.items():
        entry.update(file=f"{name}.json", objective=OBJECTIVES[name], train_rows=int(len(train_rows[name])))

    manifest: Manifest = {
        "format": MANIFEST_FORMAT,
        "version": "",  # set when the files are written
        "feature_names": feature_names,
        "horizon_ns": horizons.short_ns,
        "horizons": asdict(horizons),
        "models": entries,
        "regime": {
            "method": "gaussian_mixture+xgboost",
            "labels": list(REGIMES),
            "gmm_file": GMM_FILE,
            "gmm_inputs": gmm.inputs,
            "window_ns": config.regime.window_ns,
            "thresholds": [float(q) for q in np.quantile(vol_1s_meta, [1 / 3, 2 / 3])],
            "thresholds_note": "informational: terciles of out-of-fold per-second volatility; the classifier decides",
            "distribution": _regime_distribution(frame, regime_code, development, held_out, held, held_regime),
        },
        "dead_zone": float(config.dead_zone),
        "score": {
            "reference_volatility": float(np.median(vol_1s_meta) * horizon_scale),
            "formula": "(2 p_up - 1) * reference_volatility / max(volatility, 1e-12)",
        },
        "metrics": report,
        "validation": {
            "scheme": config.walk_forward.scheme,
            "n_folds": config.walk_forward.n_folds,
            "embargo_ns": config.walk_forward.embargo_ns or horizons.longest_ns,
            "label_reach_ns": horizons.longest_ns,
            "folds": fold_metrics,
            "meta_training": "out-of-fold specialist and regime predictions of folds 1..n; "
                             "meta folds train on earlier out-of-fold blocks only",
            "leakage": leakage,
        },
        "created_from": _data_range(frame, {"specialists": development, "meta": _mask(len(frame), train_rows["meta"]),
                                            "validation": held_out}),
        "xgboost_version": xgb.__version__,
        "config": asdict(config),
    }
    return TrainedEnsemble(boosters, gmm, manifest, seen, _expand(len(frame), dev, oof_fold), oof_meta)


def _leakage_suite(config: TrainConfig, folds: list[Fold], dev: np.ndarray, x: np.ndarray, names: list[str],
                   symbol_codes: np.ndarray, ts: np.ndarray,
                   targets: dict[str, np.ndarray], fold_metrics: dict[str, list[dict[str, Any]]],
                   fit: Callable[..., xgb.Booster]) -> dict[str, Any]:
    rng = np.random.default_rng(config.seed)
    shuffled: dict[str, Any] = {}
    for name in config.shuffled_control:
        target = targets[name].copy()
        target[dev] = rng.permutation(target[dev])

        def fit_predict(train_local: np.ndarray, test_local: np.ndarray, name: str = name,
                        target: np.ndarray = target) -> np.ndarray:
            return _predict(fit(name, x, dev[train_local], target), x[dev[test_local]])

        control_runs = run_folds(folds, target[dev], fit_predict)
        shuffled[name] = shuffled_label_check(control_runs, target[dev], config.leakage.shuffle_z)
    suspicious = {}
    for name in BINARY_MODELS:
        horizon = config.horizons.long_ns if name == "trend" else config.horizons.short_ns
        labelled = dev[np.isfinite(targets[name][dev])]
        n_eff = effective_label_count(symbol_codes, ts, labelled, horizon)
        suspicious[name] = feature_leak_scan(x, targets[name], names, dev, config.leakage, n_eff)
    aucs = {name: [float(f["auc"]) for f in fold_metrics[name]] for name in BINARY_MODELS}
    findings = leakage_findings(aucs, suspicious, config.leakage)
    findings += [f"{name}: shuffled-label AUC left 0.5 +- bound on a fold" for name, s in shuffled.items()
                 if not s["passed"]]
    return {"shuffled_labels": shuffled, "suspicious_features": suspicious, "findings": findings,
            "passed": not findings, "thresholds": asdict(config.leakage)}


def _uninformed(name: str, rows: int) -> np.ndarray:
    """What a fold predicts when it has too few training rows: no information (0.5, uniform, NaN)."""
    if name == "regime":
        return np.full((rows, len(REGIMES)), 1.0 / len(REGIMES))
    return np.full(rows, np.nan if name == "volatility" else 0.5)


def _predict(booster: xgb.Booster, inputs: np.ndarray) -> np.ndarray:
    """Exactly what ``Ensemble.predict`` computes, so the meta model trains on serving-time inputs."""
    return np.asarray(booster.inplace_predict(inputs), dtype=np.float64)


def _split(ts: np.ndarray, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Development and held-out row masks, ``config.embargo`` apart."""
    validation_start = int(np.quantile(ts, 1.0 - config.validation_fraction, method="lower"))
    development = ts < validation_start - config.embargo
    held_out = ts >= validation_start
    if not development.any() or not held_out.any():
        raise ValueError(f"the data spans too little time for a {config.embargo} ns embargo before the held-out slice")
    return development, held_out


def _mask(n: int, rows: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return mask


def _expand(n: int, dev: np.ndarray, local: np.ndarray) -> np.ndarray:
    out = np.full(n, -1, dtype=np.int64)
    out[dev] = local
    return out


def _regime_distribution(frame: pd.DataFrame, codes: np.ndarray, development: np.ndarray, held_out: np.ndarray,
                         held: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    def counts(values: np.ndarray) -> dict[str, int]:
        values = values[np.isfinite(values)].astype(np.int64)
        return {label: int((values == i).sum()) for i, label in enumerate(REGIMES)}

    symbols = frame["symbol"].to_numpy()
    return {
        "mixture_development": counts(codes[development]),
        "mixture_held_out": counts(codes[held_out]),
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
