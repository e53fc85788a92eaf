"""Relative strength index, Wilder smoothing, seeded as TA-Lib seeds it.

The first value comes after ``period + 1`` inputs: average gain and loss are the plain means
of the first ``period`` changes; afterwards each is smoothed as
``(average * (period - 1) + change) / period``. RSI is ``100 * gain / (gain + loss)``, and 0
when both are (near) zero, as in ``talib.RSI``.

>>> rsi = RelativeStrengthIndex(period=2)
>>> for close in [10.0, 11.0, 10.5, 11.5]:
...     rsi.update(close)
>>> round(rsi.value, 6)
85.714286
"""

from __future__ import annotations

import math

from operators.ta.indicators.base import is_zero, require_period


class RelativeStrengthIndex:
    """Wilder RSI in [0, 100]; NaN for the first ``period`` inputs."""

    __slots__ = ("period", "_changes", "_previous", "_average_gain", "_average_loss", "_value")

    def __init__(self, period: int = 14) -> None:
        require_period("period", period, minimum=2)
        self.period = period
        self._reset()

    def _reset(self) -> None:
        self._changes = 0
        self._previous = math.nan
        self._average_gain = 0.0
        self._average_loss = 0.0
        self._value = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._changes >= self.period

    @property
    def value(self) -> float:
        return self._value

    def update(self, value: float) -> None:
        previous = self._previous
        self._previous = value
        if previous != previous:  # first input: nothing to compare with yet
            return
        change = value - previous
        period = self.period
        if self._changes < period:
            if change < 0.0:
                self._average_loss -= change
            else:
                self._average_gain += change
            self._changes += 1
            if self._changes < period:
                return
            self._average_loss /= period
            self._average_gain /= period
        else:
            self._average_loss *= period - 1
            self._average_gain *= period - 1
            if change < 0.0:
                self._average_loss -= change
            else:
                self._average_gain += change
            self._average_loss /= period
            self._average_gain /= period
        total = self._average_gain + self._average_loss
        self._value = 0.0 if is_zero(total) else 100.0 * (self._average_gain / total)
