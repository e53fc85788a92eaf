"""Walk-forward validation with purging and embargo, and the leakage suite.

Time is cut into ``n_folds + 1`` blocks of equal row counts (quantiles of the rows'
timestamps, so overnight gaps do not distort them). Fold ``k`` (1..n_folds) tests on block
``k`` and trains on the blocks before it (``expanding``), on the ``rolling_blocks`` blocks
before it (``rolling``), or on every other block (``blocked``, purged k-fold: also trains on
later blocks, which only research should use). Two rules keep labels out of the test fold:

* **purging**: a training row at ``t`` whose label window ``[t, t + label_reach]`` overlaps the
  test fold ``[test_start, test_end]`` is dropped;
* **embargo**: a training row in ``(test_end, test_end + embargo]`` is dropped, so a model
  never trains on rows whose *features* were computed from the test fold's prices; the
  embargo must be at least the label reach (the longest horizon plus its tolerance).

>>> ts = np.arange(0, 100, dtype=np.int64)
>>> fold = walk_forward_folds(ts, WalkForwardConfig(n_folds=3, embargo_ns=5), label_reach_ns=5)[0]
>>> int(ts[fold.test].min()), int(ts[fold.train].max()), fold.purged
(24, 18, 5)

The leakage suite: a model trained and tested on shuffled labels must score an AUC inside
``0.5 +- null_auc_bound`` on every fold (the band is ``z`` standard errors of the
Mann-Whitney statistic for that fold's class counts; shuffled labels are exchangeable, so the
band is exact however autocorrelated the features are). ``leakage_findings`` flags a model
whose median fold AUC exceeds ``max_plausible_auc`` (0.8 on minutes-ahead market direction is
a leak until proven otherwise) and any single feature whose own AUC against the label lies
outside ``0.5 +- max(max_feature_auc_deviation, z * null_auc_bound(n_eff))``, naming it.
Real labels are not exchangeable: rows one second apart share almost all of a 15-minute label
window, so the chance band of a real AUC is set by ``n_eff = effective_label_count(...)``, the
number of non-overlapping label windows (distinct symbol and ``ts // horizon`` buckets), not
by the row count; with a day or two of ticks a fold holds only a few dozen independent labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.metrics import null_auc_bound, roc_auc

SCHEMES = ("expanding", "rolling", "blocked")


@dataclass(frozen=True)
class WalkForwardConfig:
    """How to fold time. ``embargo_ns`` None means: equal to the label reach."""

    n_folds: int = 4
    scheme: str = "expanding"
    rolling_blocks: int = 2
    embargo_ns: int | None = None

    def __post_init__(self) -> None:
        if self.n_folds < 1:
            raise ValueError(f"WalkForwardConfig.n_folds must be >= 1, got {self.n_folds!r}")
        if self.scheme not in SCHEMES:
            raise ValueError(f"WalkForwardConfig.scheme must be one of {SCHEMES}, got {self.scheme!r}")
        if self.rolling_blocks < 1:
            raise ValueError(f"WalkForwardConfig.rolling_blocks must be >= 1, got {self.rolling_blocks!r}")
        if self.embargo_ns is not None and self.embargo_ns < 0:
            raise ValueError(f"WalkForwardConfig.embargo_ns must be >= 0, got {self.embargo_ns!r}")


@dataclass(frozen=True)
class Fold:
    """Row masks of one fold and what purging and the embargo removed from its training set."""

    index: int
    train: np.ndarray  # bool, one per row
    test: np.ndarray  # bool, one per row
    test_start_ns: int
    test_end_ns: int
    purged: int
    embargoed: int

    def summary(self) -> dict[str, int]:
        return {"fold": self.index, "train_rows": int(self.train.sum()), "test_rows": int(self.test.sum()),
                "test_start_ns": self.test_start_ns, "test_end_ns": self.test_end_ns,
                "purged_rows": self.purged, "embargoed_rows": self.embargoed}


def walk_forward_folds(ts: np.ndarray, config: WalkForwardConfig, label_reach_ns: int) -> list[Fold]:
    """The folds of ``config`` over rows stamped ``ts`` (int ns, any order); raises when the
    embargo is shorter than ``label_reach_ns`` or a fold would have no training rows."""
    embargo = label_reach_ns if config.embargo_ns is None else config.embargo_ns
    if embargo < label_reach_ns:
        raise ValueError(f"embargo_ns={embargo} is shorter than the label reach {label_reach_ns} ns: "
                         "labels of rows after a test fold would overlap it")
    ts = np.asarray(ts, dtype=np.int64)
    edges = np.quantile(ts, np.linspace(0.0, 1.0, config.n_folds + 2), method="lower").astype(np.int64)
    block = np.clip(np.searchsorted(edges, ts, side="right") - 1, 0, config.n_folds)
    folds = []
    for k in range(1, config.n_folds + 1):
        test = block == k
        start, end = int(ts[test].min()), int(ts[test].max())
        if config.scheme == "expanding":
            candidate = block < k
        elif config.scheme == "rolling":
            candidate = (block < k) & (block >= k - config.rolling_blocks)
        else:
            candidate = block != k
        overlaps = candidate & (ts <= end) & (ts + label_reach_ns >= start)
        embargoed = candidate & ~overlaps & (ts > end) & (ts <= end + embargo)
        train = candidate & ~overlaps & ~embargoed
        if not train.any():
            raise ValueError(f"fold {k} has no training rows left after purging and embargo: "
                             "the data spans too little time for the horizons and embargo")
        folds.append(Fold(k, train, test, start, end, int(overlaps.sum()), int(embargoed.sum())))
    return folds


FitPredict = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``fit_predict(train_rows, test_rows)``: fit on the row indices ``train_rows`` and return
predictions for ``test_rows`` (1-D, or 2-D for class probabilities)."""


@dataclass(frozen=True)
class FoldRun:
    """One fold of one model: the rows it trained on and the rows it predicted."""

    fold: Fold
    train_rows: np.ndarray  # int indices with a finite target
    test_rows: np.ndarray
    predictions: np.ndarray


def run_folds(folds: Sequence[Fold], target: np.ndarray, fit_predict: FitPredict,
              predict_all: bool = False) -> list[FoldRun]:
    """Fit every fold on its training rows whose ``target`` is finite and predict its test rows
    with a finite target, or all of them with ``predict_all`` (inputs of a stacked model)."""
    labelled = np.isfinite(np.asarray(target, dtype=np.float64))
    runs = []
    for fold in folds:
        train_rows = np.flatnonzero(fold.train & labelled)
        test_rows = np.flatnonzero(fold.test if predict_all else fold.test & labelled)
        runs.append(FoldRun(fold, train_rows, test_rows, np.asarray(fit_predict(train_rows, test_rows))))
    return runs


def out_of_fold(runs: Sequence[FoldRun], n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Stack the fold predictions into one array per row (NaN where no fold predicted it) and the
    fold index that predicted each row (-1: none)."""
    width = runs[0].predictions.shape[1:] if runs else ()
    predictions = np.full((n_rows, *width), np.nan)
    source = np.full(n_rows, -1, dtype=np.int64)
    for run in runs:
        if np.any(source[run.test_rows] >= 0):
            raise ValueError(f"fold {run.fold.index} predicts rows another fold already predicted")
        predictions[run.test_rows] = run.predictions
        source[run.test_rows] = run.fold.index
    return predictions, source


@dataclass(frozen=True)
class LeakageConfig:
    """Thresholds of the leakage suite."""

    max_plausible_auc: float = 0.8  # median fold AUC above this is a leak
    max_feature_auc_deviation: float = 0.15
    shuffle_z: float = 4.0
    scan_rows: int = 50_000  # the single-feature scan reads an evenly spaced sample of this size
    # The label-edge scan (models.leakage): the start of each label window left out of the contrast
    # (where real short-term predictability lives; at most half the horizon); the family-wise
    # error rate over every feature and label (Holm); the length of a block of the block t-test,
    # in label horizons (a contrast spans two horizons, so blocks this long are nearly independent).
    edge_grace_ns: int = 30_000_000_000
    edge_alpha: float = 0.01
    edge_block_horizons: float = 3.0

    def __post_init__(self) -> None:
        if not 0.5 < self.max_plausible_auc < 1.0:
            raise ValueError(f"LeakageConfig.max_plausible_auc must lie in (0.5, 1), got {self.max_plausible_auc!r}")
        if not 0.0 < self.max_feature_auc_deviation < 0.5:
            raise ValueError(
                f"LeakageConfig.max_feature_auc_deviation must lie in (0, 0.5), got {self.max_feature_auc_deviation!r}"
            )
        if not isinstance(self.edge_grace_ns, int) or self.edge_grace_ns < 0:
            raise ValueError(f"LeakageConfig.edge_grace_ns must be a non-negative int of nanoseconds, "
                             f"got {self.edge_grace_ns!r}")
        if not 0.0 < self.edge_alpha < 1.0:
            raise ValueError(f"LeakageConfig.edge_alpha must lie in (0, 1), got {self.edge_alpha!r}")
        if self.edge_block_horizons < 2.0:
            raise ValueError(f"LeakageConfig.edge_block_horizons must be >= 2 (a contrast spans two horizons), "
                             f"got {self.edge_block_horizons!r}")


def shuffled_label_check(runs: Sequence[FoldRun], shuffled_target: np.ndarray, z: float) -> dict[str, Any]:
    """Per fold: the AUC of a model fit on shuffled labels, the null band ``0.5 +- bound`` for
    that fold's class counts, and whether it stayed inside; ``passed`` if every fold did."""
    folds = []
    for run in runs:
        y = shuffled_target[run.test_rows]
        positives, negatives = int((y == 1).sum()), int((y == 0).sum())
        auc = roc_auc(y, run.predictions)
        bound = null_auc_bound(positives, negatives, z)
        folds.append({"fold": run.fold.index, "auc": auc, "bound": bound, "rows": int(len(y)),
                      "inside": bool(abs(auc - 0.5) <= bound)})
    return {"z": z, "folds": folds, "passed": all(f["inside"] for f in folds)}


def effective_label_count(symbol_codes: np.ndarray, ts: np.ndarray, rows: np.ndarray, horizon_ns: int) -> int:
    """Non-overlapping label windows among ``rows``: distinct (symbol, ``ts // horizon_ns``) pairs."""
    rows = np.asarray(rows)
    if len(rows) == 0:
        return 0
    pairs = np.column_stack([np.asarray(symbol_codes)[rows], np.asarray(ts, dtype=np.int64)[rows] // horizon_ns])
    return int(len(np.unique(pairs, axis=0)))


def feature_leak_scan(
    x: np.ndarray, target: np.ndarray, names: Sequence[str], rows: np.ndarray, config: LeakageConfig,
    effective_labels: int | None = None,
) -> dict[str, float]:
    """Single-feature AUC against a binary ``target`` on ``rows``; returns the features whose AUC
    lies outside ``0.5 +- max(max_feature_auc_deviation, shuffle_z * null_auc_bound(n_eff))``
    (name -> AUC), a sign of a feature that reads the future. ``effective_labels`` (n_eff)
    defaults to the number of labelled rows."""
    rows = np.asarray(rows)
    rows = rows[np.isfinite(target[rows])]
    n_eff = len(rows) if effective_labels is None else max(int(effective_labels), 2)
    positive_rate = float(np.mean(target[rows])) if len(rows) else 0.5
    chance = null_auc_bound(max(round(n_eff * positive_rate), 1), max(round(n_eff * (1 - positive_rate)), 1),
                            config.shuffle_z)
    threshold = max(config.max_feature_auc_deviation, chance)
    if len(rows) > config.scan_rows:
        rows = rows[np.linspace(0, len(rows) - 1, config.scan_rows).astype(np.int64)]
    suspicious = {}
    for j, name in enumerate(names):
        column = x[rows, j]
        ok = np.isfinite(column)
        if ok.sum() < 100:
            continue
        auc = roc_auc(target[rows][ok], column[ok])
        if np.isfinite(auc) and abs(auc - 0.5) > threshold:
            suspicious[str(name)] = auc
    return suspicious


def leakage_findings(
    fold_aucs: dict[str, list[float]], suspicious_features: dict[str, dict[str, float]], config: LeakageConfig
) -> list[str]:
    """One sentence per finding: a model whose median fold AUC exceeds ``max_plausible_auc``, a feature
    the single-feature scan flagged. Empty means nothing looked like a leak."""
    findings = []
    for model, aucs in fold_aucs.items():
        finite = [a for a in aucs if np.isfinite(a)]
        if finite and float(np.median(finite)) > config.max_plausible_auc:
            findings.append(f"{model}: median out-of-sample fold AUC {np.median(finite):.3f} above the plausible "
                            f"{config.max_plausible_auc}")
    for model, features in suspicious_features.items():
        for name, auc in sorted(features.items()):
            findings.append(f"{model}: feature {name!r} alone has AUC {auc:.3f} against the label")
    return findings
