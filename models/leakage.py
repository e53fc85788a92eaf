"""The leakage suite, with a label-edge scan that catches a subtle leak, not only a blatant one.

A leak worth +0.02 AUC looks, in its AUC against the label, exactly like a real weak signal:
queue imbalance or order-flow imbalance earn about that much honestly. What tells them apart in
the table alone is *which part of the future* a feature knows about. Write the label's return as
the sum of the price increments inside its window ``(t, t + h]``:

* a feature computed from ticks at or before ``t`` can only predict the future through
  persistence in the market, and that predictability fades smoothly with the lag (for
  microstructure signals, within seconds to a minute). The feature does not know ``h``: it
  predicts the increments at lags just before ``t + h`` no better than those just after it;
* a feature that holds the label, or its return, plus any amount of noise, is correlated with
  every increment inside ``(t, t + h]`` equally and with none after it: its association with the
  future stops dead at the edge of the label window.

So, per feature and binary label with horizon ``h`` and grace ``d`` (``edge_grace_ns``, 30 s, at
most ``h / 2``), the scan correlates the feature with the **edge contrast**

    c_t = s_t * ([p(t + h) - p(t + d)] - [p(t + 2h - d) - p(t + h)]) / RV(t + d, t + 2h - d)^(1/2)

(``p`` the log price of the first row at or after that time, as the labels read it; ``s_t`` = 1
for direction and trend, minus the sign of the past return for mean reversion, whose label is
the future return's sign relative to it). The two halves are equally long, so any predictability
that is flat across the edge cancels, a drift cancels, and the first ``d`` of the window, where
real short-term predictability lives, is left out. A leak of ``c * r(t, t + h)`` keeps
``(h - d) / h`` of its strength in the contrast; a past-only feature keeps only the difference
between its predictive power just inside and just outside the edge, which at 5 and 15 minutes
is zero to within noise. Scaling by the realised volatility of the contrast's own window
(``RV``: the sum of squared row-to-row log returns) turns heavy-tailed, clustered returns into a
nearly homoscedastic series (about +10% in the statistic on real ticks); features enter as per
symbol normal scores of their ranks, so a fat tail or a level shift between symbols cannot
dominate.

The contrast is biased by real predictability that outlasts the grace, so a significant edge is
only flagged when a **placebo edge** at ``h / 2`` (the same contrast around ``t + h/2``, a point
deep inside the label window) does not explain it. A leak is flat across ``t + h/2``: its placebo
is pure noise. A real signal that fades slowly has its placebo edge at least as strong as its
edge at ``h`` (the bias shrinks with the lag), so a significant edge whose placebo t has the same
sign, at least 2 and half the edge's t, is reported as ``persistent``, not as a leak. This veto
only removes flags, so the family-wise error bound stands.

Rows seconds apart share almost all of two horizons of returns, so the rows are not
independent: the statistic is a block t-test. Rows fall into blocks of ``edge_block_horizons``
horizons per symbol; each block contributes the sum of ``score * contrast`` over its rows; the
t statistic of the block sums against zero has the effective number of blocks less one as its
degrees of freedom (batch means: blocks longer than the dependence are nearly independent,
whatever the autocorrelation of the feature). Checked on the real frame of the tests with 400
noise features (white and with a 5-minute memory): p < 0.005 in 0.0-0.7% of them, p < 0.05 in
3-9% (nominal 5%); with the plain block count, up to 1.3% and 9%. p-values over every
(label, feature) pair are Holm-adjusted, so the chance that an honest table raises any finding
is about ``edge_alpha`` (the p-values above are close to nominal, not exact).

Measured (``tests/unit/models/test_leakage.py`` and the shipped stream features): on SPY and BAC
trades (95,857 rows, 12 features) a leak of Gaussian noise plus 0.045 standardised 5-minute
returns (+0.021 AUC alone, which the single-feature AUC scan misses) has edge t = 6.0 against the
direction label (Holm p 1e-5); over 12 noise draws t averaged 5.0 and all were flagged, and at
+0.016 AUC 9 of 12. The honest features' strongest |t| is 2.9. On the 64 shipped stream features
of IBM, AIG and BAC (three sessions, 192 tests) nothing is flagged (strongest |t| 2.8); the same
+0.02 AUC leak is flagged in 6 of 6 draws with IBM and AIG (t 5.8-7.4) but only 2 of 6 with IBM
alone (38,647 rows): power grows with the square root of the rows.

The synthetic table of the model tests (a drift with a 30 s memory against a 60 s label) is the
slow-fading case: its planted signal's edge t exceeds 4 for one seed in seven (seed 14: t 4.1,
placebo t 4.6), and the placebo keeps it out of the findings. Where the scan can still be fooled:
a leak added to a feature that also has strong slow-fading real predictability can hide behind
that feature's placebo.

What the scan does not cover: a leak of future volatility (the contrast is signed), and a
look-ahead that is not the label window (a centred moving average reading 30 s ahead has its
edge at 30 s, inside the grace). A replay check of the live operators would guard those (features
recomputed on the ticks up to ``t`` equal the row at ``t``); it is not part of this suite.

The rest of the suite is unchanged from ``models.evaluation``: a shuffled-label refit whose AUC
must stay in the chance band, a median fold AUC above ``max_plausible_auc``, and the
single-feature AUC scan for blatant leaks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from models.stacking import BoosterFitter, predict
from models.training_config import TrainConfig
from models.training_data import Targets, TrainingData, label_horizon_ns
from models.validation import (effective_label_count, feature_leak_scan, leakage_findings, run_folds,
                               shuffled_label_check)

BINARY_MODELS = ("trend", "mean_reversion", "meta")
MIN_BLOCKS = 8  # below this a block t-test says nothing: the feature goes untested (see features_tested)
MIN_ROWS = 100
# A leak has no edge inside its own window, so its placebo t is noise: it must reach 2 and half the
# real edge's t, with the same sign, before a significant edge counts as slow-fading predictability.
PLACEBO_FLOOR = 2.0
PLACEBO_RATIO = 0.5


@dataclass(frozen=True)
class PricePaths:
    """Rows sorted by symbol and time, cut into segments at session gaps, with the running sum of
    squared row-to-row log returns (the realised variance between any two rows of a segment)."""

    order: np.ndarray  # sorted position -> row
    symbol: np.ndarray
    ts: np.ndarray
    log_price: np.ndarray
    segment: np.ndarray
    squared_returns: np.ndarray

    @classmethod
    def build(cls, symbol_codes: np.ndarray, ts: np.ndarray, price: np.ndarray, max_gap_ns: int) -> PricePaths:
        order = np.lexsort((ts, symbol_codes))
        symbol, t, log_price = symbol_codes[order], ts[order], np.log(price[order])
        continues = np.r_[False, (symbol[1:] == symbol[:-1]) & (np.diff(t) <= max_gap_ns)]
        step = np.where(continues, np.r_[0.0, np.diff(log_price)], 0.0)
        return cls(order, symbol, t, log_price, np.cumsum(~continues), np.cumsum(step**2))

    def forward(self, offset_ns: int, tolerance_ns: int) -> np.ndarray:
        """Sorted position of the first row at or after ``t + offset_ns`` in the same segment and
        within ``tolerance_ns`` of it, per sorted row; -1 where there is none."""
        position = np.full(len(self.ts), -1, dtype=np.int64)
        bounds = np.flatnonzero(np.r_[True, self.symbol[1:] != self.symbol[:-1], True])
        for start, end in zip(bounds[:-1], bounds[1:]):
            t, segment = self.ts[start:end], self.segment[start:end]
            found = np.searchsorted(t, t + offset_ns, side="left")
            at = np.minimum(found, len(t) - 1)
            ok = (found < len(t)) & (t[at] - t - offset_ns <= tolerance_ns) & (segment[at] == segment)
            position[start:end][ok] = start + at[ok]
        return position

    def edge_contrast(self, horizon_ns: int, grace_ns: int, tolerance_ns: int) -> np.ndarray:
        """Per row (frame order): the return over ``[t + grace, t + h]`` minus the return over
        ``[t + h, t + 2h - grace]``, over the realised volatility of ``[t + grace, t + 2h - grace]``;
        NaN where a window is incomplete or the price did not move."""
        inside = self.forward(grace_ns, tolerance_ns)
        edge = self.forward(horizon_ns, tolerance_ns)
        outside = self.forward(2 * horizon_ns - grace_ns, tolerance_ns)
        ok = (inside >= 0) & (edge >= 0) & (outside >= 0)
        a, b, c = np.maximum(inside, 0), np.maximum(edge, 0), np.maximum(outside, 0)
        variance = self.squared_returns[c] - self.squared_returns[a]
        ok &= variance > 0
        inside_minus_outside = 2 * self.log_price[b] - self.log_price[a] - self.log_price[c]
        contrast = inside_minus_outside / np.sqrt(np.where(ok, variance, 1.0))
        out = np.empty(len(contrast))
        out[self.order] = np.where(ok, contrast, np.nan)
        return out


def normal_scores(x: np.ndarray, symbol_codes: np.ndarray) -> np.ndarray:
    """Per symbol, the standard normal quantile of each finite value's rank (NaN stays NaN)."""
    out = np.full(len(x), np.nan)
    for code in np.unique(symbol_codes):
        mine = (symbol_codes == code) & np.isfinite(x)
        if mine.sum() > 1:
            out[mine] = stats.norm.ppf((stats.rankdata(x[mine]) - 0.5) / mine.sum())
    return out


def block_ids(symbol_codes: np.ndarray, ts: np.ndarray, block_ns: int) -> np.ndarray:
    """One id per (symbol, ``ts // block_ns``) block, numbered from 0."""
    blocks = symbol_codes.astype(np.int64) * (int(ts.max() // block_ns) + 1) + ts // block_ns
    return np.unique(blocks, return_inverse=True)[1].ravel()


def block_t_test(z: np.ndarray, block: np.ndarray, weight: np.ndarray) -> tuple[float, float, int]:
    """t statistic, two-sided p-value and block count of the test that the per-block sums of ``z``
    (finite rows only) have mean zero. Blocks carry unequal weight (busy hours, trending windows),
    so the degrees of freedom are the effective number of blocks, ``(sum v)^2 / sum v^2`` with
    ``v`` each block's sum of ``weight`` (the squared contrast: a block's variance under the null),
    less one: with all the weight in a few blocks the t statistic has their few degrees of
    freedom, not the block count's."""
    ok = np.isfinite(z)
    used = np.bincount(block[ok]) > 0
    sums = np.bincount(block[ok], weights=z[ok])[used]
    variances = np.bincount(block[ok], weights=weight[ok])[used]
    if len(sums) < MIN_BLOCKS or sums.std(ddof=1) == 0:
        return float("nan"), float("nan"), len(sums)
    t = float(sums.mean() / (sums.std(ddof=1) / np.sqrt(len(sums))))
    effective_blocks = variances.sum() ** 2 / np.sum(variances**2)
    return t, float(2 * stats.t.sf(abs(t), df=max(effective_blocks - 1.0, 1.0))), len(sums)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control under any dependence).

    >>> holm(np.array([0.01, 0.04, 0.001, 0.5])).round(3).tolist()
    [0.03, 0.08, 0.004, 0.5]
    """
    p_values = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p_values)
    stepped = np.maximum.accumulate((len(p_values) - np.arange(len(p_values))) * p_values[order])
    adjusted = np.empty(len(p_values))
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def label_signs(name: str, data: TrainingData) -> np.ndarray:
    """``s_t`` of the edge contrast: 1 where the label is the future return's sign, minus the past
    return's sign for mean reversion (1 when the future return opposes it)."""
    if name == "mean_reversion":
        return -np.sign(data.labels["past_return_short"].to_numpy(dtype=np.float64))
    return np.ones(len(data.timestamps))


def edge_t_tests(scores: dict[str, np.ndarray], contrast: np.ndarray,
                 block: np.ndarray) -> dict[str, tuple[float, float]]:
    """Per feature with enough rows: the block t statistic and p-value of ``score * contrast``."""
    results = {}
    for feature, score in scores.items():
        z = score * contrast
        if np.isfinite(z).sum() >= MIN_ROWS:
            t, p, _ = block_t_test(z, block, contrast**2)
            if np.isfinite(t):
                results[feature] = (t, p)
    return results


def persists_before_the_edge(t: float, placebo_t: float) -> bool:
    """Whether the placebo edge at half the horizon, inside the label window where a leak has
    none, is as strong as the real one: a signal that fades slowly, not one that reads the label."""
    return bool(np.sign(placebo_t) == np.sign(t) and abs(placebo_t) >= max(PLACEBO_FLOOR, PLACEBO_RATIO * abs(t)))


def label_edge_scan(config: TrainConfig, data: TrainingData, targets: Targets,
                    models: tuple[str, ...] = BINARY_MODELS) -> dict[str, Any]:
    """The edge contrast of every specialist feature against every binary label on the
    development rows: per label its strongest feature; the (label, feature) pairs whose
    Holm-adjusted p-value is at most ``edge_alpha`` are ``flagged``, or ``persistent`` when the
    placebo edge at half the horizon explains them."""
    leakage, horizons = config.leakage, config.horizons
    paths = PricePaths.build(data.symbol_codes, data.timestamps, data.frame["price"].to_numpy(dtype=np.float64),
                             horizons.max_gap_ns)
    rows = data.development_rows
    symbols, ts = data.symbol_codes[rows], data.timestamps[rows]
    scores = {name: normal_scores(data.specialist_inputs[rows, j], symbols)
              for j, name in enumerate(data.specialist_features)}
    tests: list[tuple[str, str, float, float]] = []
    placebo: dict[tuple[str, str], float] = {}
    per_model: dict[str, dict[str, Any]] = {}
    for model in models:
        horizon = label_horizon_ns(model, horizons)
        block_ns = int(leakage.edge_block_horizons * horizon)
        block = block_ids(symbols, ts, block_ns)
        unlabelled = ~np.isfinite(targets.values[model][rows])
        signs = label_signs(model, data)
        results = {}
        for name, edge_ns in (("edge", horizon), ("placebo", horizon // 2)):
            contrast = (signs * paths.edge_contrast(edge_ns, min(leakage.edge_grace_ns, edge_ns // 2),
                                                    horizons.tolerance_ns))[rows]
            contrast[unlabelled] = np.nan
            results[name] = edge_t_tests(scores, contrast, block)
        tests += [(model, feature, t, p) for feature, (t, p) in results["edge"].items()]
        placebo.update({(model, feature): t for feature, (t, _) in results["placebo"].items()})
        strongest = max(results["edge"].items(), key=lambda item: abs(item[1][0]), default=None)
        per_model[model] = {"horizon_ns": horizon, "grace_ns": min(leakage.edge_grace_ns, horizon // 2),
                            "block_ns": block_ns, "features_tested": len(results["edge"]),
                            "strongest": None if strongest is None else
                            {"feature": strongest[0], "t": strongest[1][0], "p": strongest[1][1],
                             "placebo_t": placebo.get((model, strongest[0]))}}
    adjusted = holm(np.array([p for *_, p in tests])) if tests else np.array([])
    flagged: dict[str, dict[str, dict[str, float]]] = {}
    persistent: dict[str, dict[str, dict[str, float]]] = {}
    for (model, feature, t, _), p_holm in zip(tests, adjusted):
        if p_holm <= leakage.edge_alpha:
            placebo_t = placebo.get((model, feature), 0.0)  # no placebo rows: nothing explains the edge
            verdict = persistent if persists_before_the_edge(t, placebo_t) else flagged
            verdict.setdefault(model, {})[feature] = {"t": t, "p_holm": float(p_holm), "placebo_t": placebo_t}
    return {"alpha": leakage.edge_alpha, "tests": len(tests), "labels": per_model, "flagged": flagged,
            "persistent": persistent}


def label_edge_findings(scan: dict[str, Any]) -> list[str]:
    findings = []
    for model, features in scan["flagged"].items():
        minutes = scan["labels"][model]["horizon_ns"] / 60e9
        for feature, figures in sorted(features.items()):
            findings.append(f"{model}: feature {feature!r} predicts the returns inside its {minutes:g}-minute label "
                            f"window but not those just after it (edge t {figures['t']:.1f}, Holm p "
                            f"{figures['p_holm']:.1g}): it reads the label")
    return findings


def shuffled_label_controls(config: TrainConfig, data: TrainingData, targets: Targets,
                            fitter: BoosterFitter) -> dict[str, Any]:
    """Per model of ``config.shuffled_control``: refit on labels permuted within the development
    range; every fold's AUC must stay inside the chance band."""
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
    return shuffled


def single_feature_scan(config: TrainConfig, data: TrainingData, targets: Targets) -> dict[str, dict[str, float]]:
    """Per binary model, the features whose own AUC against its label is implausibly far from 0.5."""
    development_rows = data.development_rows
    suspicious = {}
    for name in BINARY_MODELS:
        labelled = development_rows[np.isfinite(targets.values[name][development_rows])]
        n_eff = effective_label_count(data.symbol_codes, data.timestamps, labelled,
                                      label_horizon_ns(name, config.horizons))
        suspicious[name] = feature_leak_scan(data.specialist_inputs, targets.values[name], data.specialist_features,
                                             development_rows, config.leakage, n_eff)
    return suspicious


def leakage_suite(config: TrainConfig, data: TrainingData, targets: Targets, folds_metrics: dict[str, list[Any]],
                  fitter: BoosterFitter) -> dict[str, Any]:
    """The leakage checks on the development range, with their findings and verdict: the keys of
    ``models.evaluation.leakage_suite`` plus ``label_edge`` (the edge scan's figures)."""
    shuffled = shuffled_label_controls(config, data, targets, fitter)
    suspicious = single_feature_scan(config, data, targets)
    edge = label_edge_scan(config, data, targets)
    aucs = {name: [float(f["auc"]) for f in folds_metrics[name]] for name in BINARY_MODELS}
    findings = leakage_findings(aucs, suspicious, config.leakage) + label_edge_findings(edge)
    findings += [f"{name}: shuffled-label AUC left 0.5 +- bound on a fold" for name, s in shuffled.items()
                 if not s["passed"]]
    return {"shuffled_labels": shuffled, "suspicious_features": suspicious, "label_edge": edge,
            "findings": findings, "passed": not findings, "thresholds": asdict(config.leakage)}
