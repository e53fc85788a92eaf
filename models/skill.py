"""Does a model have skill? Held-out metrics with block-bootstrap intervals, next to baselines.

Every model of tickwise is reported the same way: one :class:`SkillRow` per model, symbol and
metric, holding the model's held-out value, each baseline's value on the same rows, and the
95% interval of *model minus best baseline* from a paired block bootstrap. Rows close in time
share information (overlapping label windows, volatility clusters), so the bootstrap resamples
whole blocks (a day, an hour, a minute: whatever ``blocks`` names per row), never single rows.

A model **beats** its baselines when that whole interval lies on the better side of zero:
lower for a loss (log loss, Brier, QLIKE, MSE), higher for a score (AUC, accuracy). Anything
else is "no": a model without demonstrated skill gets no weight downstream.

>>> rng = np.random.default_rng(0)
>>> y = rng.integers(0, 2, 4000).astype(float)
>>> good = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.1, 4000), 0.01, 0.99)
>>> row = skill_row("demo", "ALL", "log_loss", y, good, {"base rate": np.full(4000, y.mean())},
...                 blocks=np.arange(4000) // 100)
>>> row.beats, row.best_baseline
(True, 'base rate')
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from models import metrics

Metric = Callable[[np.ndarray, np.ndarray], float]

BOOTSTRAP_SAMPLES = 500
CONFIDENCE = 0.95
_EPS = 1e-300


def qlike(realized_variance: np.ndarray, forecast_variance: np.ndarray) -> float:
    """Patton's (2011) QLIKE loss, ``mean(rv / f - log(rv / f) - 1)``: robust to noise in the
    realised-variance proxy, 0 for a perfect forecast, penalising under-prediction more."""
    ratio = np.asarray(realized_variance, np.float64) / np.maximum(np.asarray(forecast_variance, np.float64), _EPS)
    ratio = np.maximum(ratio, _EPS)
    return float(np.mean(ratio - np.log(ratio) - 1.0))


def mse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean((np.asarray(actual, np.float64) - np.asarray(predicted, np.float64)) ** 2))


def accuracy_of_probability(y: np.ndarray, p: np.ndarray) -> float:
    """Accuracy of the class ``p > 0.5`` (``p`` the probability of class 1)."""
    return metrics.accuracy(y, (np.asarray(p) > 0.5).astype(np.float64))


def multiclass_log_loss(y: np.ndarray, probabilities: np.ndarray) -> float:
    p = np.clip(np.asarray(probabilities, np.float64), 1e-15, 1.0)
    return float(-np.mean(np.log(p[np.arange(len(y)), np.asarray(y, np.int64)])))


def multiclass_accuracy(y: np.ndarray, probabilities: np.ndarray) -> float:
    return metrics.accuracy(y, np.asarray(probabilities).argmax(axis=1))


#: name -> (function(actual, prediction), lower is better)
METRICS: dict[str, tuple[Metric, bool]] = {
    "log_loss": (metrics.log_loss, True),
    "brier": (metrics.brier, True),
    "auc": (metrics.roc_auc, False),
    "accuracy": (accuracy_of_probability, False),
    "qlike": (qlike, True),
    "mse_log_rv": (mse, True),
    "multiclass_log_loss": (multiclass_log_loss, True),
    "multiclass_accuracy": (multiclass_accuracy, False),
}


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.4f} [{self.low:.4f}, {self.high:.4f}]"


@dataclass(frozen=True)
class SkillRow:
    """One model's held-out figure for one symbol (or ``ALL``) and metric, beside its baselines."""

    model: str
    symbol: str
    metric: str
    lower_is_better: bool
    rows: int
    blocks: int
    value: Interval  # the model's metric with its bootstrap interval
    baselines: dict[str, float]  # each baseline's metric on the same rows
    best_baseline: str
    difference: Interval  # model minus best baseline (paired bootstrap)
    beats: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SkillRow:
        fields = dict(data)
        fields["value"] = Interval(**fields["value"])
        fields["difference"] = Interval(**fields["difference"])
        return cls(**fields)


def block_indices(blocks: np.ndarray, samples: int, seed: int) -> Iterator[np.ndarray]:
    """``samples`` bootstrap resamples of the rows, each drawing whole blocks with replacement
    (one at a time: 500 resamples of 264k rows held at once took 1 GB)."""
    codes, _ = _codes(blocks)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rng = np.random.default_rng(seed)
    n_blocks = len(counts)
    for _ in range(samples):
        chosen = rng.integers(0, n_blocks, n_blocks)
        yield np.concatenate([order[starts[b]:starts[b] + counts[b]] for b in chosen])


def _codes(blocks: np.ndarray) -> tuple[np.ndarray, int]:
    _, codes = np.unique(np.asarray(blocks), return_inverse=True)
    return codes.astype(np.int64), int(codes.max()) + 1 if len(codes) else 0


def skill_row(model: str, symbol: str, metric: str, actual: np.ndarray, predicted: np.ndarray,
              baselines: Mapping[str, np.ndarray], blocks: np.ndarray, *,
              samples: int = BOOTSTRAP_SAMPLES, seed: int = 7) -> SkillRow:
    """Score ``predicted`` and each baseline prediction against ``actual`` with ``metric`` (a key
    of ``METRICS``); the interval of the difference to the best baseline comes from a paired
    block bootstrap (the same resampled rows for model and baseline)."""
    if metric not in METRICS:
        raise ValueError(f"unknown skill metric {metric!r}; expected one of {sorted(METRICS)}")
    if not baselines:
        raise ValueError("skill_row needs at least one baseline")
    function, lower = METRICS[metric]
    actual = np.asarray(actual)
    predicted = np.asarray(predicted)
    base = {name: np.asarray(value) for name, value in baselines.items()}
    base_values = {name: function(actual, value) for name, value in base.items()}
    finite = {name: v for name, v in base_values.items() if np.isfinite(v)}
    best = (min if lower else max)(finite or base_values, key=(finite or base_values).get)
    value = function(actual, predicted)
    model_draws, difference_draws = [], []
    for rows in block_indices(blocks, samples, seed):
        m = function(actual[rows], predicted[rows])
        model_draws.append(m)
        difference_draws.append(m - function(actual[rows], base[best][rows]))
    tail = (1.0 - CONFIDENCE) / 2.0 * 100.0
    value_interval = Interval(value, *(float(x) for x in np.nanpercentile(model_draws, [tail, 100 - tail])))
    difference = Interval(value - base_values[best],
                          *(float(x) for x in np.nanpercentile(difference_draws, [tail, 100 - tail])))
    beats = bool(difference.high < 0.0) if lower else bool(difference.low > 0.0)
    return SkillRow(model, symbol, metric, lower, int(len(actual)), _codes(blocks)[1], value_interval,
                    {name: float(v) for name, v in base_values.items()}, best, difference, beats)


def markdown_table(rows: list[SkillRow]) -> str:
    """The report's skill table: one line per model, symbol and metric."""
    lines = ["| model | symbol | metric | held out [95% CI] | baselines | vs best baseline [95% CI] | beats | rows | blocks |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        baselines = "; ".join(f"{name} {value:.4f}" for name, value in row.baselines.items())
        lines.append(f"| {row.model} | {row.symbol} | {row.metric} {'(lower better)' if row.lower_is_better else ''} "
                     f"| {row.value} | {baselines} | {row.difference} ({row.best_baseline}) "
                     f"| {'**yes**' if row.beats else 'no'} | {row.rows:,} | {row.blocks:,} |")
    return "\n".join(lines)


def skill_summary(rows: list[SkillRow]) -> list[str]:
    """One plain line per model: on its primary metric (the first reported for it), where it beats
    its best baseline with the whole interval, and where it does not."""
    primary: dict[str, str] = {}
    for row in rows:
        primary.setdefault(row.model, row.metric)
    lines = []
    for model, metric in primary.items():
        picked = [row for row in rows if row.model == model and row.metric == metric]
        yes = [row.symbol for row in picked if row.beats]
        no = [row.symbol for row in picked if not row.beats]
        verdict = "has skill" if "ALL" in yes or (yes and not no) else ("no skill" if not yes else "mixed")
        lines.append(f"**{model}** ({metric}): {verdict}; beats its best baseline on "
                     f"{', '.join(yes) or 'none'}; not on {', '.join(no) or 'none'}")
    return lines
