"""The baselines the microstructure model must beat, fitted per symbol on the development days.

- ``majority class``: the training base rate of "up" as a constant probability (its class is the
  majority class; a hard 0/1 forecast would have infinite log loss).
- ``last-move persistence``: the next move repeats the last mid move with the training
  frequency ``r`` of repeats: ``p_up = r`` after an up move, ``1 - r`` after a down move, the
  base rate before the first move.
- ``queue-imbalance logistic``: ``p_up = sigmoid(a + b * quote_imbalance)`` (Gould & Bonart
  2016), a missing imbalance read as 0.

>>> fitted = fit_baselines(np.array([1.0, 1.0, 0.0, 1.0]), np.array(["IBM"] * 4),
...                        np.array([1.0, 1.0, -1.0, 1.0]), np.array([0.5, 0.4, -0.6, 0.3]))
>>> fitted["IBM"].base_rate, fitted["IBM"].repeat_rate
(0.75, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

MAJORITY, PERSISTENCE, QUEUE_IMBALANCE = "majority class", "last-move persistence", "queue-imbalance logistic"


@dataclass(frozen=True)
class SymbolBaselines:
    base_rate: float
    repeat_rate: float
    intercept: float
    slope: float


def _imbalance(quote_imbalance: np.ndarray) -> np.ndarray:
    values = np.asarray(quote_imbalance, np.float64)
    return np.where(np.isfinite(values), values, 0.0)


def _fit_one(y: np.ndarray, last_move: np.ndarray, quote_imbalance: np.ndarray) -> SymbolBaselines:
    moved = np.isfinite(last_move)
    repeats = (y[moved] == (last_move[moved] > 0)).astype(np.float64)
    repeat_rate = float(repeats.mean()) if len(repeats) else 0.5
    x = _imbalance(quote_imbalance).reshape(-1, 1)
    if len(np.unique(y)) < 2:
        intercept, slope = float(np.log(max(y.mean(), 1e-6) / max(1.0 - y.mean(), 1e-6))), 0.0
    else:
        logistic = LogisticRegression(C=1e6, max_iter=200).fit(x, y)
        intercept, slope = float(logistic.intercept_[0]), float(logistic.coef_[0, 0])
    return SymbolBaselines(float(y.mean()), repeat_rate, intercept, slope)


def fit_baselines(y: np.ndarray, symbol: np.ndarray, last_move: np.ndarray,
                  quote_imbalance: np.ndarray) -> dict[str, SymbolBaselines]:
    """Each symbol's baselines from its labelled training rows."""
    return {name: _fit_one(y[symbol == name], last_move[symbol == name], quote_imbalance[symbol == name])
            for name in np.unique(symbol)}


def predict_baselines(fitted: dict[str, SymbolBaselines], symbol: np.ndarray, last_move: np.ndarray,
                      quote_imbalance: np.ndarray) -> dict[str, np.ndarray]:
    """Each baseline's probability of up for each row (its symbol's fitted baselines)."""
    out = {name: np.full(len(symbol), np.nan) for name in (MAJORITY, PERSISTENCE, QUEUE_IMBALANCE)}
    imbalance = _imbalance(quote_imbalance)
    for name, baseline in fitted.items():
        rows = symbol == name
        out[MAJORITY][rows] = baseline.base_rate
        move = last_move[rows]
        out[PERSISTENCE][rows] = np.where(move > 0, baseline.repeat_rate,
                                          np.where(move < 0, 1.0 - baseline.repeat_rate, baseline.base_rate))
        out[QUEUE_IMBALANCE][rows] = 1.0 / (1.0 + np.exp(-(baseline.intercept + baseline.slope * imbalance[rows])))
    return out
