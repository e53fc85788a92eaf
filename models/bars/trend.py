"""Direction of the adjusted close over the next 1 or 5 sessions, from day bars of every symbol.

**Label.** 1 when ``ln(C_{t+h} / C_t) > 0``, 0 when it is negative; an unchanged close (rare
on adjusted day closes) has no label and is dropped.

**Baselines**, fitted on the training rows:

* ``majority``: the training share of up moves as a constant probability (its class is the
  training majority);
* ``momentum_252`` / ``momentum_22``: time-series momentum, the sign of the past 252- or
  22-session return, turned into a probability by its training hit rate: P(up | past return
  > 0) and P(up | past return <= 0) as counted on the training rows.

**Model.** Pooled L2 logistic regression on every day feature (returns over 1-252 sessions,
overnight gap, RSI, ADX, ATR, range variances, volume z-score); the penalty is chosen by
walk-forward log loss inside the development years (a strong penalty pulls it to the base rate).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from models.bars.linear import LinearModel, fit_logistic
from models.bars.splits import future, label_days
from models.bars.tasks import Scored, complete_rows, matrix
from operators.features.long_horizon import DAY_FEATURES

MOMENTUM_LOOKBACKS = (252, 22)


def momentum_probability(train: pd.DataFrame, test: pd.DataFrame, lookback: int) -> np.ndarray:
    """P(up) per test row from the sign of its past ``lookback``-session return, with the hit
    rates counted on the training rows."""
    column = f"log_return_{lookback}d"
    up_train = train[column].to_numpy(np.float64) > 0.0
    y = train["target"].to_numpy(np.float64)
    rate_up = y[up_train].mean() if up_train.any() else y.mean()
    rate_down = y[~up_train].mean() if (~up_train).any() else y.mean()
    return np.where(test[column].to_numpy(np.float64) > 0.0, rate_up, rate_down)


class TrendTask:
    source: ClassVar[str] = "day"
    selection_metric: ClassVar[str] = "log_loss"
    metrics: ClassVar[tuple[str, ...]] = ("log_loss", "auc", "accuracy")
    candidates: ClassVar[tuple[dict[str, Any], ...]] = tuple({"C": c} for c in (0.00001, 0.0001, 0.001, 0.01, 1.0))

    def __init__(self, horizon: int) -> None:
        if horizon not in (1, 5):
            raise ValueError(f"TrendTask horizon must be 1 or 5 sessions, got {horizon!r}")
        self.horizon = horizon
        self.name = f"trend_{horizon}d"
        self.target = f"P(adjusted close {horizon} session{'s' if horizon > 1 else ''} ahead > today's close)"

    def rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        change = future(frame, f"log_return_{self.horizon}d", self.horizon)
        frame["target"] = np.where(change > 0.0, 1.0, np.where(change < 0.0, 0.0, np.nan))
        frame["label_day"] = label_days(frame, self.horizon)
        return complete_rows(frame, [*DAY_FEATURES, "target"])

    def fit(self, train: pd.DataFrame, candidate: dict[str, Any]) -> LinearModel:
        return fit_logistic(DAY_FEATURES, matrix(train, DAY_FEATURES), train["target"].to_numpy(np.int64), candidate["C"])

    def score(self, fitted: LinearModel, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Scored]:
        actual = test["target"].to_numpy(np.float64)
        p = fitted.predict(matrix(test, fitted.features))
        baselines = {"majority": np.full(len(test), train["target"].mean())}
        for lookback in MOMENTUM_LOOKBACKS:
            baselines[f"momentum_{lookback}"] = momentum_probability(train, test, lookback)
        return {metric: Scored(actual, p, baselines) for metric in self.metrics}
