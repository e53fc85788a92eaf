"""Average true range, Wilder smoothing, seeded as ``talib.ATR`` seeds it.

The true range of a bar is ``max(high - low, |high - previous close|, |low - previous close|)``;
the first bar has no previous close, so (like TA-Lib) it gives no true range at all. The first
ATR is the plain mean of the first ``period`` true ranges (bars 2 .. period + 1), then
``(atr * (period - 1) + true_range) / period``.

>>> atr = AverageTrueRange(period=2)
>>> for high, low, close in [(10.0, 9.0, 9.5), (10.5, 9.5, 10.0), (11.0, 10.0, 10.8)]:
...     atr.update(high, low, close)
>>> atr.value
1.0
"""

from __future__ import annotations

import math

from operators.ta.indicators.base import require_period


class AverageTrueRange:
    """Wilder ATR of (high, low, close) bars; NaN for the first ``period`` bars."""

    __slots__ = ("period", "_previous_close", "_ranges", "_seed_sum", "_value")

    def __init__(self, period: int = 14) -> None:
        require_period("period", period)
        self.period = period
        self._reset()

    def _reset(self) -> None:
        self._previous_close = math.nan
        self._ranges = 0
        self._seed_sum = 0.0
        self._value = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._ranges >= self.period

    @property
    def value(self) -> float:
        return self._value

    def update(self, high: float, low: float, close: float) -> None:
        previous_close = self._previous_close
        self._previous_close = close
        if previous_close != previous_close:  # first bar: TA-Lib has no true range for it
            return
        true_range = high - low
        above = abs(previous_close - high)
        if above > true_range:
            true_range = above
        below = abs(previous_close - low)
        if below > true_range:
            true_range = below
        period = self.period
        if self._ranges >= period:
            value = self._value * (period - 1)
            value += true_range
            self._value = value / period
            return
        self._seed_sum += true_range
        self._ranges += 1
        if self._ranges == period:
            self._value = self._seed_sum / period
