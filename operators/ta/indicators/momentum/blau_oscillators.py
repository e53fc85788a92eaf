"""William Blau's double-smoothed oscillators: ``talib.TSI`` and ``talib.SMI``.

Both carry a numerator and a denominator through two chained TA-Lib-seeded EMAs and divide
them, reporting 0.0 when the smoothed denominator is not positive (only when every input
reaching it was exactly zero: a flat market), as TA-Lib 0.8 does.

- TSI: the close-to-close change and its magnitude, smoothed over ``firstperiod`` then
  ``secondperiod``; ``100 * change / magnitude``.
- SMI: over a ``timeperiod``-bar high/low window, the close's distance from the window's
  midpoint and the window's range, smoothed over ``slowperiod`` then ``fastperiod``;
  ``100 * distance / (range / 2)``, with an EMA of ``signalperiod`` as the signal line.

>>> tsi = TrueStrengthIndex(firstperiod=2, secondperiod=2)
>>> for close in [10.0, 11.0, 12.0, 11.0]:
...     tsi.update(close)
>>> tsi.value
33.333333333333336
"""

from __future__ import annotations

import math
from typing import ClassVar

from operators.ta.indicators.base import require_period
from operators.ta.indicators.momentum._exponential import SeededExponentialAverage
from operators.ta.indicators.momentum._extremes import RollingExtremes


def _ratio(numerator: float, denominator: float) -> float:
    return 100.0 * numerator / denominator if denominator > 0.0 else 0.0


class TrueStrengthIndex:
    """TSI in [-100, 100]; NaN for the first ``firstperiod + secondperiod - 1`` closes."""

    __slots__ = ("firstperiod", "secondperiod", "_previous", "_first_change", "_first_magnitude",
                 "_second_change", "_second_magnitude", "_value")

    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, firstperiod: int = 25, secondperiod: int = 13) -> None:
        require_period("firstperiod", firstperiod, minimum=2)
        require_period("secondperiod", secondperiod, minimum=2)
        self.firstperiod = firstperiod
        self.secondperiod = secondperiod
        self._reset()

    def _reset(self) -> None:
        self._previous = math.nan
        self._first_change = SeededExponentialAverage(self.firstperiod)
        self._first_magnitude = SeededExponentialAverage(self.firstperiod)
        self._second_change = SeededExponentialAverage(self.secondperiod)
        self._second_magnitude = SeededExponentialAverage(self.secondperiod)
        self._value = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._second_magnitude.ready

    @property
    def value(self) -> float:
        return self._value

    @property
    def values(self) -> tuple[float, ...]:
        return (self._value,)

    def update(self, close: float) -> None:
        previous = self._previous
        self._previous = close
        if previous != previous:  # the first close has no change yet
            return
        change = close - previous
        self._first_change.update(change)
        self._first_magnitude.update(abs(change))
        if not self._first_change.ready:
            return
        self._second_change.update(self._first_change.value)
        self._second_magnitude.update(self._first_magnitude.value)
        if self._second_change.ready:
            self._value = _ratio(self._second_change.value, self._second_magnitude.value)


class StochasticMomentumIndex:
    """SMI and its signal line in [-100, 100]; NaN until the signal EMA has its first value.

    >>> smi = StochasticMomentumIndex(timeperiod=2, fastperiod=2, slowperiod=2, signalperiod=2)
    >>> for high, low, close in [(2.0, 1.0, 1.5), (3.0, 2.0, 3.0), (4.0, 3.0, 4.0), (5.0, 4.0, 5.0), (6.0, 5.0, 5.0)]:
    ...     smi.update(high, low, close)
    >>> [round(value, 6) for value in smi.values]
    [55.555556, 77.777778]
    """

    __slots__ = ("timeperiod", "fastperiod", "slowperiod", "signalperiod", "_extremes", "_slow_distance",
                 "_slow_range", "_fast_distance", "_fast_range", "_signal", "_smi")

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")
    outputs: ClassVar[tuple[str, ...]] = ("smi", "smisignal")

    def __init__(self, timeperiod: int = 13, fastperiod: int = 2, slowperiod: int = 25, signalperiod: int = 9) -> None:
        require_period("timeperiod", timeperiod, minimum=2)
        require_period("fastperiod", fastperiod, minimum=2)
        require_period("slowperiod", slowperiod, minimum=2)
        require_period("signalperiod", signalperiod, minimum=2)
        self.timeperiod = timeperiod
        self.fastperiod = fastperiod
        self.slowperiod = slowperiod
        self.signalperiod = signalperiod
        self._reset()

    def _reset(self) -> None:
        self._extremes = RollingExtremes(self.timeperiod)
        self._slow_distance = SeededExponentialAverage(self.slowperiod)
        self._slow_range = SeededExponentialAverage(self.slowperiod)
        self._fast_distance = SeededExponentialAverage(self.fastperiod)
        self._fast_range = SeededExponentialAverage(self.fastperiod)
        self._signal = SeededExponentialAverage(self.signalperiod)
        self._smi = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._signal.ready

    @property
    def value(self) -> float:
        return self._smi if self._signal.ready else math.nan

    @property
    def values(self) -> tuple[float, ...]:
        if not self._signal.ready:
            return (math.nan, math.nan)
        return (self._smi, self._signal.value)

    def update(self, high: float, low: float, close: float) -> None:
        extremes = self._extremes
        extremes.update(high, low)
        if not extremes.full:
            return
        highest, lowest = extremes.highest, extremes.lowest
        self._slow_distance.update(close - (highest + lowest) * 0.5)
        self._slow_range.update(highest - lowest)
        if not self._slow_distance.ready:
            return
        self._fast_distance.update(self._slow_distance.value)
        self._fast_range.update(self._slow_range.value)
        if not self._fast_distance.ready:
            return
        self._smi = _ratio(self._fast_distance.value, 0.5 * self._fast_range.value)
        self._signal.update(self._smi)


TALIB_FUNCTIONS: dict[str, type] = {"SMI": StochasticMomentumIndex, "TSI": TrueStrengthIndex}
