"""Exponential moving average with TA-Lib's seeding.

The first value is the simple average of the first ``period`` inputs; after that each
input moves the average by ``2 / (period + 1)`` of the gap, computed as TA-Lib does
(``(x - ema) * k + ema``), so values match ``talib.EMA`` on the whole series.

>>> ema = ExponentialMovingAverage(period=3)
>>> for close in [1.0, 2.0, 3.0, 4.0]:
...     ema.update(close)
>>> ema.value
3.0
"""

from __future__ import annotations

import math

from operators.ta.indicators.base import require_period


class ExponentialMovingAverage:
    """EMA of a series fed one value at a time; NaN for the first ``period - 1`` inputs."""

    __slots__ = ("period", "_smoothing", "_count", "_seed_sum", "_value")

    def __init__(self, period: int = 30) -> None:
        require_period("period", period)
        self.period = period
        self._smoothing = 2.0 / (period + 1)
        self._reset()

    def _reset(self) -> None:
        self._count = 0
        self._seed_sum = 0.0
        self._value = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._count >= self.period

    @property
    def value(self) -> float:
        return self._value

    def update(self, value: float) -> None:
        if self._count >= self.period:
            self._value = (value - self._value) * self._smoothing + self._value
            return
        self._seed_sum += value
        self._count += 1
        if self._count == self.period:
            self._value = self._seed_sum / self.period
