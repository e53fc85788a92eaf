"""Linear models of the bar-level tasks, stored as JSON coefficients (never pickles).

Inputs are standardised with the training rows' mean and standard deviation, which are stored
with the coefficients, so a model is evaluated with numpy alone:

* ``ridge``: least squares with an L2 penalty ``alpha`` on the standardised slopes (closed form;
  the intercept is not penalised); ``alpha=0`` is ordinary least squares;
* ``logistic``: scikit-learn's L2 logistic regression (binary or multinomial, lbfgs,
  deterministic) with inverse penalty ``C``; ``predict`` gives P(class 1), or one column per
  class.

>>> x = np.arange(10.0).reshape(-1, 1)
>>> model = fit_ridge(["x"], x, 2.0 * x[:, 0] + 1.0, alpha=0.0)
>>> model.predict(np.array([[20.0]])).round(6).tolist()
[41.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

LINKS = ("identity", "logistic", "softmax")


@dataclass(frozen=True)
class LinearModel:
    """``link(intercept + ((x - center) / scale) @ coef.T)``; ``coef`` has one row per output."""

    features: tuple[str, ...]
    center: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    link: str

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = ((np.asarray(x, np.float64) - self.center) / self.scale) @ self.coef.T + self.intercept
        if self.link == "identity":
            return z[:, 0]
        if self.link == "logistic":
            return 1.0 / (1.0 + np.exp(-z[:, 0]))
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "center": self.center.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept.tolist(), "link": self.link}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearModel:
        if data["link"] not in LINKS:
            raise ValueError(f"linear model link must be one of {LINKS}, got {data['link']!r}")
        return cls(tuple(data["features"]), np.asarray(data["center"], np.float64),
                   np.asarray(data["scale"], np.float64), np.asarray(data["coef"], np.float64).reshape(-1, len(data["features"])),
                   np.asarray(data["intercept"], np.float64).reshape(-1), data["link"])


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    center = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 0.0, scale, 1.0)
    return (x - center) / scale, center, scale


def fit_ridge(features: list[str] | tuple[str, ...], x: np.ndarray, y: np.ndarray, alpha: float) -> LinearModel:
    """Ridge regression of ``y`` on ``x`` (rows must be finite)."""
    z, center, scale = _standardise(np.asarray(x, np.float64))
    y = np.asarray(y, np.float64)
    intercept = y.mean()
    gram = z.T @ z + alpha * np.eye(z.shape[1])
    coef = np.linalg.solve(gram, z.T @ (y - intercept))
    return LinearModel(tuple(features), center, scale, coef.reshape(1, -1), np.array([intercept]), "identity")


def fit_logistic(features: list[str] | tuple[str, ...], x: np.ndarray, y: np.ndarray, c: float) -> LinearModel:
    """L2 logistic regression of the integer classes ``y`` (two: binary, more: multinomial)."""
    from sklearn.linear_model import LogisticRegression

    z, center, scale = _standardise(np.asarray(x, np.float64))
    model = LogisticRegression(C=c, max_iter=500)
    model.fit(z, np.asarray(y, np.int64))
    link = "logistic" if len(model.classes_) == 2 else "softmax"
    return LinearModel(tuple(features), center, scale, np.asarray(model.coef_, np.float64),
                       np.asarray(model.intercept_, np.float64), link)
