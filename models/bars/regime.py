"""The next week's volatility regime, from hourly bars, against persistence.

**Regimes.** A session's regime is the tercile of its ``log_rv_w`` (log mean realized variance of
the last 5 sessions) among the symbol's *training* rows: 0 calm, 1 normal, 2 turbulent. The two
thresholds per symbol are fitted inside each training fold (and on the development rows for
the shipped model), never on the rows scored.

**Label.** The regime 5 sessions later: its ``log_rv_w`` covers sessions t+1..t+5, none of
which the features of session t have seen. Labels of neighbouring sessions overlap, which the
month blocks of the bootstrap and the 14-day embargo account for.

**Baselines**, fitted on the training rows: ``persistence`` (the probabilities of each next
regime given today's, counted over the training rows' transitions, with add-one smoothing) and
``majority`` (the training class shares).

**Model.** Pooled multinomial logistic regression on the volatility features plus the distances
of ``log_rv_w`` and ``log_rv_m`` to the symbol's two thresholds; the penalty is chosen by
walk-forward multiclass log loss inside the development years.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from models.bars.linear import LinearModel, fit_logistic
from models.bars.splits import future, label_days
from models.bars.tasks import Scored, complete_rows, matrix
from models.bars.volatility import VOLATILITY_FEATURES

REGIME_NAMES = ("calm", "normal", "turbulent")
HORIZON = 5
REGIME_VALUE = "log_rv_w"
DISTANCES = ("rv_w_above_low", "rv_w_above_high", "rv_m_above_low", "rv_m_above_high")


Thresholds = dict[str, tuple[float, float]]


def _bounds(thresholds: Thresholds, frame: pd.DataFrame) -> np.ndarray:
    """The two thresholds of each row's symbol (NaN for a symbol without them)."""
    missing = (np.nan, np.nan)
    return np.array([thresholds.get(str(s), missing) for s in frame["symbol"].to_numpy()],
                    dtype=np.float64).reshape(len(frame), 2)


def regimes(thresholds: Thresholds, frame: pd.DataFrame, column: str) -> np.ndarray:
    """Regime code of ``column`` per row (-1 for a symbol without thresholds)."""
    bounds = _bounds(thresholds, frame)
    value = frame[column].to_numpy(np.float64)
    codes = (value > bounds[:, 0]).astype(np.int64) + (value > bounds[:, 1]).astype(np.int64)
    return np.where(np.isfinite(bounds[:, 0]), codes, -1)


def regime_inputs(thresholds: Thresholds, frame: pd.DataFrame) -> np.ndarray:
    """The classifier's inputs: the volatility features, then ``DISTANCES``."""
    bounds = _bounds(thresholds, frame)
    week, month = frame["log_rv_w"].to_numpy(np.float64), frame["log_rv_m"].to_numpy(np.float64)
    distances = np.column_stack([week - bounds[:, 0], week - bounds[:, 1], month - bounds[:, 0], month - bounds[:, 1]])
    return np.column_stack([matrix(frame, VOLATILITY_FEATURES), distances])


@dataclass(frozen=True)
class RegimeModel:
    """Per-symbol tercile thresholds of ``log_rv_w`` and the classifier of the regime 5 sessions on."""

    thresholds: Thresholds
    classifier: LinearModel

    def regimes(self, frame: pd.DataFrame, column: str) -> np.ndarray:
        return regimes(self.thresholds, frame, column)

    def probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        return self.classifier.predict(regime_inputs(self.thresholds, frame))

    def to_json(self) -> dict[str, Any]:
        return {"regimes": list(REGIME_NAMES), "value": REGIME_VALUE, "horizon_sessions": HORIZON,
                "thresholds": {s: list(t) for s, t in self.thresholds.items()}, "classifier": self.classifier.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RegimeModel:
        return cls({s: (float(t[0]), float(t[1])) for s, t in data["thresholds"].items()},
                   LinearModel.from_json(data["classifier"]))


def fit_thresholds(train: pd.DataFrame) -> Thresholds:
    return {str(symbol): tuple(float(q) for q in np.quantile(rows[REGIME_VALUE].to_numpy(np.float64), [1 / 3, 2 / 3]))
            for symbol, rows in train.groupby("symbol", sort=True)}


def transition_probabilities(current: np.ndarray, following: np.ndarray, classes: int = len(REGIME_NAMES)) -> np.ndarray:
    """Row i: P(next regime | today's regime i), counted with add-one smoothing."""
    counts = np.ones((classes, classes))
    np.add.at(counts, (current, following), 1.0)
    return counts / counts.sum(axis=1, keepdims=True)


class RegimeTask:
    name: ClassVar[str] = "regime_5d"
    source: ClassVar[str] = "hour"
    target: ClassVar[str] = "tercile regime of log_rv_w 5 sessions ahead (calm / normal / turbulent)"
    selection_metric: ClassVar[str] = "multiclass_log_loss"
    metrics: ClassVar[tuple[str, ...]] = ("multiclass_log_loss", "multiclass_accuracy")
    candidates: ClassVar[tuple[dict[str, Any], ...]] = tuple({"C": c} for c in (0.1, 1.0, 10.0))

    def rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame["target"] = future(frame, REGIME_VALUE, HORIZON)
        frame["label_day"] = label_days(frame, HORIZON)
        return complete_rows(frame, [*VOLATILITY_FEATURES, "target"])

    def fit(self, train: pd.DataFrame, candidate: dict[str, Any]) -> RegimeModel:
        thresholds = fit_thresholds(train)
        classifier = fit_logistic((*VOLATILITY_FEATURES, *DISTANCES), regime_inputs(thresholds, train),
                                  regimes(thresholds, train, "target"), candidate["C"])
        return RegimeModel(thresholds, classifier)

    def score(self, fitted: RegimeModel, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Scored]:
        actual = fitted.regimes(test, "target")
        transitions = transition_probabilities(fitted.regimes(train, REGIME_VALUE), fitted.regimes(train, "target"))
        shares = np.bincount(fitted.regimes(train, "target"), minlength=len(REGIME_NAMES)) / len(train)
        baselines = {"persistence": transitions[fitted.regimes(test, REGIME_VALUE)],
                     "majority": np.tile(shares, (len(test), 1))}
        p = fitted.probabilities(test)
        return {metric: Scored(actual.astype(np.float64), p, baselines) for metric in self.metrics}
