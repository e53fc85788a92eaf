"""Wilder's average gain and average loss of a series' bar-to-bar changes (RSI's and CMO's core).

The first ``period`` changes are summed and averaged; afterwards each average moves as
``(average * (period - 1) + change) / period``. TA-Lib's RSI multiplies by ``1 / period`` where
its CMO divides by ``period``; ``reciprocal=True`` copies the former, so both stay bit-identical
to TA-Lib. A building block: its callers check the period.

>>> averages = WilderGainsAndLosses(period=2, reciprocal=False)
>>> [averages.update(close) for close in [10.0, 12.0, 11.0, 12.0]]
[False, False, True, True]
>>> averages.gain, averages.loss
(1.0, 0.25)
"""

from __future__ import annotations

import math
from typing import ClassVar

from operators.ta.base import Indicator, Period
from operators.ta.state import FlatState


class WilderGainsAndLosses(FlatState):
    """Average gain and average loss, ready once ``period`` changes (``period + 1`` values) were seen."""

    __slots__ = ("period", "_factor", "_reciprocal", "_previous", "_changes", "gain", "loss")

    def __init__(self, period: int, reciprocal: bool) -> None:
        self.period = period
        self._reciprocal = reciprocal
        self._factor = 1.0 / period if reciprocal else float(period)
        self._previous = math.nan
        self._changes = 0
        self.gain = 0.0
        self.loss = 0.0

    def _average(self, total: float) -> float:
        return total * self._factor if self._reciprocal else total / self._factor

    def update(self, value: float) -> bool:
        """Feed one value; True once the averages are ready."""
        previous = self._previous
        self._previous = value
        if previous != previous:  # the first value has nothing to compare with
            return False
        change = value - previous
        gain = change if change > 0.0 else 0.0
        loss = -change if change < 0.0 else 0.0
        period = self.period
        if self._changes >= period:
            self.gain = self._average(self.gain * (period - 1) + gain)
            self.loss = self._average(self.loss * (period - 1) + loss)
            return True
        self._changes += 1
        self.gain += gain
        self.loss += loss
        if self._changes < period:
            return False
        self.gain = self._average(self.gain)
        self.loss = self._average(self.loss)
        return True


class WilderOscillator(Indicator):
    """RSI's and CMO's shared frame: ``100 * numerator / (gain + loss)`` of Wilder's averages, 0 when flat.

    A subclass says whether its averages multiply by the reciprocal (``reciprocal``, as TA-Lib's
    RSI does) and what its ``_numerator`` of the two averages is.
    """

    __slots__ = ("timeperiod", "_averages")
    parameters = (Period("timeperiod", 14, minimum=2),)
    reciprocal: ClassVar[bool]

    def _reset(self) -> None:
        super()._reset()
        self._averages = WilderGainsAndLosses(self.timeperiod, reciprocal=self.reciprocal)

    @staticmethod
    def _numerator(gain: float, loss: float) -> float:
        raise NotImplementedError

    def update(self, close: float) -> None:
        averages = self._averages
        if averages.update(close):
            gain, loss = averages.gain, averages.loss
            total = gain + loss
            self._value = 100.0 * (self._numerator(gain, loss) / total) if total > 0.0 else 0.0
