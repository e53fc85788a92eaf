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

from operators.ta.base import Indicator, MultiOutputIndicator, Period
from operators.ta.indicators.momentum._exponential import SeededExponentialAverage
from operators.ta.indicators.momentum.rolling_window import RollingRange
from operators.ta.state import FlatState


class _DoubleSmoothedRatio(FlatState):
    """A numerator and a denominator, each through two chained seeded EMAs; ``100 * n / d``."""

    __slots__ = ("_first_numerator", "_first_denominator", "_second_numerator", "_second_denominator")

    def __init__(self, first_period: int, second_period: int) -> None:
        self._first_numerator = SeededExponentialAverage(first_period)
        self._first_denominator = SeededExponentialAverage(first_period)
        self._second_numerator = SeededExponentialAverage(second_period)
        self._second_denominator = SeededExponentialAverage(second_period)

    def update(self, numerator: float, denominator: float, scale: float) -> float:
        """The ratio once both stages are warm (NaN before), 0.0 on a non-positive denominator."""
        first_numerator, first_denominator = self._first_numerator, self._first_denominator
        first_numerator.update(numerator)
        first_denominator.update(denominator)
        if not first_numerator.ready:
            return math.nan
        second_numerator, second_denominator = self._second_numerator, self._second_denominator
        second_numerator.update(first_numerator.value)
        second_denominator.update(first_denominator.value)
        if not second_numerator.ready:
            return math.nan
        smoothed = scale * second_denominator.value
        return 100.0 * second_numerator.value / smoothed if smoothed > 0.0 else 0.0


class TrueStrengthIndex(Indicator):
    """TSI in [-100, 100]; NaN for the first ``firstperiod + secondperiod - 1`` closes."""

    __slots__ = ("firstperiod", "secondperiod", "_previous", "_ratio")
    parameters = (Period("firstperiod", 25, minimum=2), Period("secondperiod", 13, minimum=2))

    def _reset(self) -> None:
        super()._reset()
        self._previous = math.nan
        self._ratio = _DoubleSmoothedRatio(self.firstperiod, self.secondperiod)

    def update(self, close: float) -> None:
        previous = self._previous
        self._previous = close
        if previous == previous:  # the first close has no change yet
            change = close - previous
            self._value = self._ratio.update(change, abs(change), 1.0)


class StochasticMomentumIndex(MultiOutputIndicator):
    """SMI and its signal line in [-100, 100]; NaN until the signal EMA has its first value.

    >>> smi = StochasticMomentumIndex(timeperiod=2, fastperiod=2, slowperiod=2, signalperiod=2)
    >>> for high, low, close in [(2.0, 1.0, 1.5), (3.0, 2.0, 3.0), (4.0, 3.0, 4.0), (5.0, 4.0, 5.0), (6.0, 5.0, 5.0)]:
    ...     smi.update(high, low, close)
    >>> [round(value, 6) for value in smi.values]
    [55.555556, 77.777778]
    """

    __slots__ = ("timeperiod", "fastperiod", "slowperiod", "signalperiod", "_range", "_ratio", "_signal")
    inputs = ("high", "low", "close")
    outputs = ("smi", "smisignal")
    parameters = (Period("timeperiod", 13, minimum=2), Period("fastperiod", 2, minimum=2),
                  Period("slowperiod", 25, minimum=2), Period("signalperiod", 9, minimum=2))

    def _reset(self) -> None:
        super()._reset()
        self._range = RollingRange(self.timeperiod)
        self._ratio = _DoubleSmoothedRatio(self.slowperiod, self.fastperiod)
        self._signal = SeededExponentialAverage(self.signalperiod)

    def update(self, high: float, low: float, close: float) -> None:
        window = self._range
        window.update(high, low)
        if not window.ready:
            return
        highest, lowest = window.highest, window.lowest
        smi = self._ratio.update(close - (highest + lowest) * 0.5, highest - lowest, 0.5)
        if smi != smi:
            return
        signal = self._signal
        signal.update(smi)
        if signal.ready:
            self._values = (smi, signal.value)


TALIB_FUNCTIONS: dict[str, type] = {"SMI": StochasticMomentumIndex, "TSI": TrueStrengthIndex}
