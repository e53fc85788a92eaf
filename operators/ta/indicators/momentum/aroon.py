"""Aroon: how many bars ago the window's highest high and lowest low were — ``talib.AROON`` and
``talib.AROONOSC``.

The window holds ``timeperiod + 1`` bars (the newest and ``timeperiod`` before it). With
``bars_since`` counted back from the newest bar, Aroon up is ``100 / timeperiod * (timeperiod -
bars_since_highest_high)`` and Aroon down the same for the lowest low; the oscillator is
``100 / timeperiod * (bar of the high - bar of the low)``, i.e. up minus down. Ties go to the
newest bar, as in TA-Lib. Both extremes come from monotonic deques: O(1) amortised per update.

>>> aroon = Aroon(timeperiod=2)
>>> for high, low in [(10.0, 9.0), (12.0, 8.0), (11.0, 10.0)]:
...     aroon.update(high, low)
>>> aroon.values
(50.0, 50.0)
"""

from __future__ import annotations

from operators.ta.base import MultiOutputIndicator, Period
from operators.ta.indicators.momentum.rolling_window import RollingArgExtreme


class Aroon(MultiOutputIndicator):
    """``talib.AROON``: ``(aroondown, aroonup)``, first values at bar ``timeperiod``."""

    __slots__ = ("timeperiod", "_highest", "_lowest")
    inputs = ("high", "low")
    outputs = ("aroondown", "aroonup")
    parameters = (Period("timeperiod", 14, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._highest = RollingArgExtreme(self.timeperiod + 1, highest=True)
        self._lowest = RollingArgExtreme(self.timeperiod + 1, highest=False)

    def update(self, high: float, low: float) -> None:
        highest, lowest = self._highest, self._lowest
        highest.update(high)
        lowest.update(low)
        if highest.ready:
            self._values = self._combine(100.0 / self.timeperiod, highest.bar, lowest.bar, highest.bars - 1)

    def _combine(self, factor: float, high_bar: int, low_bar: int, newest: int) -> tuple[float, ...]:
        period = self.timeperiod
        return (factor * (period - (newest - low_bar)), factor * (period - (newest - high_bar)))


class AroonOscillator(Aroon):
    """``talib.AROONOSC``: Aroon up minus Aroon down.

    >>> oscillator = AroonOscillator(timeperiod=2)
    >>> for high, low in [(10.0, 9.0), (12.0, 8.0), (13.0, 10.0)]:
    ...     oscillator.update(high, low)
    >>> oscillator.value
    50.0
    """

    __slots__ = ()
    outputs = ("real",)

    def _combine(self, factor: float, high_bar: int, low_bar: int, newest: int) -> tuple[float, ...]:
        return (factor * (high_bar - low_bar),)


TALIB_FUNCTIONS: dict[str, type] = {
    "AROON": Aroon,
    "AROONOSC": AroonOscillator,
}
