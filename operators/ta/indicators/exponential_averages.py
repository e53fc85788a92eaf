"""TA-Lib's exponential moving averages: EMA, RMA, DEMA, TEMA, T3 and ZLEMA.

Each EMA stage is seeded as TA-Lib seeds it, with the mean of its first ``timeperiod`` inputs,
and runs TA-Lib's recursion in TA-Lib's operand order, so values equal TA-Lib's batch functions
bit for bit. With ``timeperiod=1`` every average returns its input, as TA-Lib does.

>>> average = ExponentialMovingAverage(timeperiod=3)
>>> for close in [1.0, 2.0, 3.0, 4.0]:
...     average.update(close)
>>> average.value
3.0
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from operators.ta.base import NAN, Average, Indicator, Number, Period, SeededAverage


class ExponentialMovingAverage(SeededAverage, Indicator):
    """``talib.EMA``: seeded with the mean of the first ``timeperiod`` values, then
    ``(x - ema) * 2 / (timeperiod + 1) + ema``.

    >>> average = ExponentialMovingAverage(timeperiod=3)
    >>> for close in [1.0, 2.0, 3.0, 4.0]:
    ...     average.update(close)
    >>> average.value
    3.0
    """

    __slots__ = ("timeperiod", "_smoothing", "_count", "_seed_sum")
    parameters = (Period("timeperiod", 30),)

    def _reset(self) -> None:
        super()._reset()
        self._smoothing = 2.0 / (self.timeperiod + 1)
        self._count = 0
        self._seed_sum = 0.0

    def update(self, close: float) -> None:
        if self.timeperiod == 1 and self._count:
            self._value = close  # TA-Lib copies the input rather than run the recursion
        else:
            self._exponential(close, self.timeperiod, self._smoothing)


class WilderMovingAverage(SeededAverage, Average):
    """``talib.RMA`` (Wilder's smoothing): seeded with the mean of the first ``timeperiod``
    values, then ``(rma * (timeperiod - 1) + x) / timeperiod``.

    >>> average = WilderMovingAverage(timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> average.value
    2.75
    """

    __slots__ = ("_count", "_seed_sum")

    def _reset(self) -> None:
        super()._reset()
        self._count = 0
        self._seed_sum = 0.0

    def _advance(self, close: float) -> None:
        self._wilder(close, self.timeperiod)


class DoubleExponentialMovingAverage(Average):
    """``talib.DEMA``: ``2 * EMA(x) - EMA(EMA(x))``; first value after ``2 * (timeperiod - 1)`` bars.

    >>> average = DoubleExponentialMovingAverage(timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> average.value
    4.0
    """

    __slots__ = ("_first", "_second")

    def _reset(self) -> None:
        super()._reset()
        self._first = ExponentialMovingAverage(timeperiod=self.timeperiod)
        self._second = ExponentialMovingAverage(timeperiod=self.timeperiod)

    def _advance(self, close: float) -> None:
        first = self._first
        first.update(close)
        if first._value == first._value:
            second = self._second
            second.update(first._value)
            if second._value == second._value:
                self._value = 2.0 * first._value - second._value


class TripleExponentialMovingAverage(Average):
    """``talib.TEMA``: ``3 * EMA - 3 * EMA(EMA) + EMA(EMA(EMA))``.

    >>> average = TripleExponentialMovingAverage(timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0, 3.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    3.296296
    """

    __slots__ = ("_first", "_second", "_third")

    def _reset(self) -> None:
        super()._reset()
        self._first = ExponentialMovingAverage(timeperiod=self.timeperiod)
        self._second = ExponentialMovingAverage(timeperiod=self.timeperiod)
        self._third = ExponentialMovingAverage(timeperiod=self.timeperiod)

    def _advance(self, close: float) -> None:
        first = self._first
        first.update(close)
        if first._value != first._value:
            return
        second = self._second
        second.update(first._value)
        if second._value != second._value:
            return
        third = self._third
        third.update(second._value)
        if third._value == third._value:
            self._value = third._value + (3.0 * first._value - 3.0 * second._value)


class TillsonT3MovingAverage(Average):
    """``talib.T3``: six chained EMAs (``k * x + (1 - k) * ema``, each seeded with the mean of
    its first ``timeperiod`` inputs) mixed by Tillson's volume-factor weights.

    >>> average = TillsonT3MovingAverage(timeperiod=2, vfactor=0.7)
    >>> for close in [1.0, 2.0, 4.0, 3.0, 5.0, 7.0, 6.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    6.276569
    """

    __slots__ = ("vfactor", "_smoothing", "_weights", "_stages", "_counts", "_seed_sums")
    parameters = (Period("timeperiod", 5), Number("vfactor", 0.7, 0.0, 1.0))

    STAGES: ClassVar[int] = 6

    def _reset(self) -> None:
        super()._reset()
        self._smoothing = 2.0 / (self.timeperiod + 1)
        volume_factor = self.vfactor
        squared = volume_factor * volume_factor
        cubed = -squared * volume_factor
        self._weights = (
            cubed,
            3.0 * (squared - cubed),
            -6.0 * squared - 3.0 * (volume_factor - cubed),
            1.0 + 3.0 * volume_factor - cubed + 3.0 * squared,
        )
        self._stages = [NAN] * self.STAGES
        self._counts = [0] * self.STAGES
        self._seed_sums = [0.0] * self.STAGES

    def _advance(self, close: float) -> None:
        period = self.timeperiod
        stages = self._stages
        counts = self._counts
        smoothing = self._smoothing
        keep = 1.0 - smoothing
        value = close
        for stage in range(self.STAGES):
            if counts[stage] < period:
                self._seed_sums[stage] += value
                counts[stage] += 1
                if counts[stage] < period:
                    return
                value = self._seed_sums[stage] / period
            else:
                value = smoothing * value + keep * stages[stage]
            stages[stage] = value
        first, second, third, fourth = self._weights
        self._value = first * stages[5] + second * stages[4] + third * stages[3] + fourth * stages[2]


class ZeroLagExponentialMovingAverage(Average):
    """``talib.ZLEMA``: an EMA (TA-Lib seeding) of the de-lagged series
    ``2 * x - x[-lag]``, ``lag = (timeperiod - 1) // 2``.

    >>> average = ZeroLagExponentialMovingAverage(timeperiod=3)
    >>> for close in [1.0, 2.0, 4.0, 3.0, 5.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    5.333333
    """

    __slots__ = ("_window", "_average")

    def _reset(self) -> None:
        super()._reset()
        self._window: deque[float] = deque(maxlen=(self.timeperiod - 1) // 2 + 1)
        self._average = ExponentialMovingAverage(timeperiod=self.timeperiod)

    def _advance(self, close: float) -> None:
        window = self._window
        window.append(close)
        if len(window) == window.maxlen:
            average = self._average
            average.update(2.0 * close - window[0])
            self._value = average._value
