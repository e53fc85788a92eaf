"""Portfolio VaR: an online EWMA covariance of symbol returns and a historical window.

Returns are sampled on a fixed event-time grid (``RiskLimits.var_interval_ns``) so the
symbols' returns are synchronous: when the portfolio clock enters a new interval, each
symbol's log return since the previous sample (0 for a symbol without a price yet) updates
the covariance ``S = lambda S + (1 - lambda) r r^T`` (zero-mean, RiskMetrics) and is kept in
a window of the last ``var_window`` return vectors.

For dollar positions ``w`` (shares x mark):

- parametric VaR = z(confidence) x sqrt(w^T S w) (before ``var_min_observations`` samples,
  ``S`` is the diagonal prior ``var_prior_volatility^2``);
- historical VaR = the ``confidence`` quantile of the losses ``-(R w)`` the current
  positions would have made over the window (0 before the minimum observations);
- the portfolio VaR is the larger of the two, over one interval.

>>> model = ReturnModel(("A", "B"), 0.94, 10, 2, 0.01)
>>> for ts, a, b in ((0, 100.0, 50.0), (60, 101.0, 50.5), (120, 100.0, 50.0), (180, 101.0, 50.5)):
...     model.observe(ts // 60, {"A": a, "B": b})
>>> model.observations
3
>>> round(model.var([1000.0, 0.0], 0.99), 2) > 0
True
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from statistics import NormalDist

import numpy as np

__all__ = ["ReturnModel"]


class ReturnModel:
    """EWMA covariance and return window over a fixed, ordered symbol universe."""

    __slots__ = ("symbols", "_index", "_lambda", "_min", "_prior", "covariance", "history", "_history_matrix",
                 "observations",
                 "_bucket", "_last_prices")

    def __init__(self, symbols: Sequence[str], ewma_lambda: float, window: int, min_observations: int,
                 prior_volatility: float) -> None:
        self.symbols = tuple(symbols)
        self._index = {symbol: i for i, symbol in enumerate(self.symbols)}
        self._lambda = ewma_lambda
        self._min = min_observations
        self._prior = prior_volatility
        self._reset(window)

    def _reset(self, window: int) -> None:
        n = len(self.symbols)
        self.covariance = np.zeros((n, n))
        self.history: deque[tuple[float, ...]] = deque(maxlen=window)
        self._history_matrix: np.ndarray | None = None  # the history as an array, rebuilt after it changes
        self.observations = 0
        self._bucket: int | None = None
        self._last_prices: tuple[float, ...] = (math.nan,) * n

    @property
    def ready(self) -> bool:
        return self.observations >= self._min

    def index(self, symbol: str) -> int | None:
        return self._index.get(symbol)

    def observe(self, bucket: int, marks: Mapping[str, float]) -> None:
        """Sample ``marks`` when ``bucket`` (the interval number of the portfolio clock) moves on."""
        if self._bucket is not None and bucket <= self._bucket:
            return
        prices = tuple(marks.get(symbol, math.nan) for symbol in self.symbols)
        if self._bucket is not None:
            returns = tuple(
                math.log(now / before) if now > 0.0 and before > 0.0 else 0.0
                for now, before in zip(prices, self._last_prices)
            )
            vector = np.asarray(returns)
            self.covariance = self._lambda * self.covariance + (1.0 - self._lambda) * np.outer(vector, vector)
            self.history.append(returns)
            self._history_matrix = None
            self.observations += 1
        self._bucket = bucket
        self._last_prices = tuple(p if p > 0.0 else before for p, before in zip(prices, self._last_prices))

    def parametric_var(self, dollars: Sequence[float], confidence: float) -> float:
        w = np.asarray(dollars, dtype=np.float64)
        if self.ready:
            variance = float(w @ self.covariance @ w)
        else:
            variance = float(np.sum((w * self._prior) ** 2))
        return _z_score(confidence) * math.sqrt(max(variance, 0.0))

    def historical_var(self, dollars: Sequence[float], confidence: float) -> float:
        if not self.ready or not self.history:
            return 0.0
        matrix = getattr(self, "_history_matrix", None)
        if matrix is None:
            matrix = self._history_matrix = np.asarray(self.history, dtype=np.float64)
        losses = -(matrix @ np.asarray(dollars, dtype=np.float64))
        return max(0.0, higher_quantile(losses, confidence))

    def var(self, dollars: Sequence[float], confidence: float) -> float:
        if not any(dollars):
            return 0.0  # a flat book risks nothing (both estimates are exactly 0)
        return max(self.parametric_var(dollars, confidence), self.historical_var(dollars, confidence))


_Z_SCORES: dict[float, float] = {}


def _z_score(confidence: float) -> float:
    z = _Z_SCORES.get(confidence)
    if z is None:
        z = _Z_SCORES[confidence] = NormalDist().inv_cdf(confidence)
    return z


def higher_quantile(values: np.ndarray, q: float) -> float:
    """``np.quantile(values, q, method="higher")`` by selection (``np.partition``) instead of a sort.

    >>> losses = np.array([3.0, -1.0, 7.0, 2.0, 5.0])
    >>> higher_quantile(losses, 0.6) == float(np.quantile(losses, 0.6, method="higher"))
    True
    """
    n = values.shape[0]
    k = min(n - 1, int(math.ceil((n - 1) * q)))
    return float(np.partition(values, k)[k])
