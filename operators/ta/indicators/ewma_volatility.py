"""RiskMetrics EWMA volatility of log returns (zero mean, decay ``lambda_``).

Each price after the first gives a log return ``r``; the variance is the exponentially weighted
mean of ``r**2`` with weights ``lambda_**age`` normalised by their sum, i.e. pandas
``(r**2).ewm(alpha=1 - lambda_, adjust=True).mean()``. The normalisation makes the early
estimates unbiased averages instead of leaning on an arbitrary seed; both running sums are
bounded (the weight sum tends to ``1 / (1 - lambda_)``), so an update is O(1).

Warm-up: ``value`` is NaN until ``warmup_returns`` returns have been seen. By default that is
``ceil(1 / (1 - lambda_))`` returns, the effective number of observations behind the estimate
(17 for the RiskMetrics 0.94). ``value`` is the per-bar volatility (not annualised).

>>> volatility = EwmaVolatility(lambda_=0.5, warmup_returns=2)
>>> for price in [100.0, 101.0, 100.0]:
...     volatility.update(price)
>>> round(volatility.value, 6)
0.00995
"""

from __future__ import annotations

import math

from operators.ta.base import NAN, Indicator, Number, Period


class Decay(Number):
    """A decay factor strictly between 0 and 1."""

    __slots__ = ()
    requirement = "a number strictly between 0 and 1"

    def accepts(self, value: object) -> bool:
        return super().accepts(value) and 0.0 < value < 1.0  # type: ignore[operator]


class OptionalPeriod(Period):
    """A period that may be left unset (``None``)."""

    __slots__ = ()

    @property
    def requirement(self) -> str:  # type: ignore[override]
        return f"None or {super().requirement}"

    def accepts(self, value: object) -> bool:
        return value is None or super().accepts(value)


class EwmaVolatility(Indicator):
    """Standard deviation of log returns under exponential decay ``lambda_``."""

    inputs = ("close",)
    parameters = (Decay("lambda_", 0.94), OptionalPeriod("warmup_returns", None))  # type: ignore[arg-type]
    __slots__ = ("lambda_", "warmup_returns", "_warmup", "_previous_price", "_returns", "_weighted_squares",
                 "_weight_sum")

    def __init__(self, lambda_: float = 0.94, warmup_returns: int | None = None) -> None:
        super().__init__(lambda_=lambda_, warmup_returns=warmup_returns)

    def _reset(self) -> None:
        super()._reset()
        warmup_returns = self.warmup_returns
        self._warmup = warmup_returns if warmup_returns is not None else math.ceil(1.0 / (1.0 - self.lambda_) - 1e-9)
        self._previous_price = NAN
        self._returns = 0
        self._weighted_squares = 0.0
        self._weight_sum = 0.0

    def update(self, price: float) -> None:
        if not 0.0 < price < math.inf:
            raise ValueError(f"price must be positive and finite, got {price!r}")
        previous = self._previous_price
        self._previous_price = price
        if previous != previous:
            return
        log_return = math.log(price / previous)
        self._weighted_squares = self.lambda_ * self._weighted_squares + log_return * log_return
        self._weight_sum = self.lambda_ * self._weight_sum + 1.0
        if self._returns < self._warmup:
            self._returns += 1
        if self._returns >= self._warmup:
            self._value = math.sqrt(self._weighted_squares / self._weight_sum)
