"""The exponential average every TA-Lib EMA stage uses, with an optional fixed smoothing.

It is seeded with the plain mean of its first ``period`` inputs and afterwards moves by
``smoothing`` (``2 / (period + 1)`` unless given, as MACDFIX's 0.15 / 0.075 are) of the gap,
computed as ``(value - average) * smoothing + average``. Shared by the MACD family, TRIX, TSI
and SMI, which chain several of these. A building block: its callers check the period.

>>> average = SeededExponentialAverage(period=2)
>>> for value in [1.0, 3.0, 6.0]:
...     average.update(value)
>>> average.ready, average.value
(True, 4.666666666666666)
"""

from __future__ import annotations

import math

from operators.ta.base import SeededAverage
from operators.ta.state import FlatState


class SeededExponentialAverage(SeededAverage, FlatState):
    """EMA fed one value at a time; NaN until ``period`` values have been seen."""

    __slots__ = ("period", "smoothing", "_count", "_seed_sum", "_value")

    def __init__(self, period: int, smoothing: float | None = None) -> None:
        self.period = period
        self.smoothing = 2.0 / (period + 1) if smoothing is None else smoothing
        self._count = 0
        self._seed_sum = 0.0
        self._value = math.nan

    @property
    def ready(self) -> bool:
        return self._count >= self.period

    @property
    def value(self) -> float:
        return self._value

    def update(self, value: float) -> None:
        self._exponential(value, self.period, self.smoothing)
