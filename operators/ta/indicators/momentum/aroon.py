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

import math
from typing import ClassVar

from operators.ta.indicators.base import require_period
from operators.ta.indicators.momentum.rolling_window import RollingArgExtreme


class Aroon:
    """``talib.AROON``: ``(aroondown, aroonup)``, first values at bar ``timeperiod``."""

    __slots__ = ("timeperiod", "_factor", "_highest", "_lowest")

    inputs: ClassVar[tuple[str, ...]] = ("high", "low")
    outputs: ClassVar[tuple[str, ...]] = ("aroondown", "aroonup")

    def __init__(self, timeperiod: int = 14) -> None:
        require_period("timeperiod", timeperiod, 2)
        self.timeperiod = timeperiod
        self._factor = 100.0 / timeperiod
        self._reset()

    def _reset(self) -> None:
        self._highest = RollingArgExtreme(self.timeperiod + 1, highest=True)
        self._lowest = RollingArgExtreme(self.timeperiod + 1, highest=False)

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._highest.ready

    @property
    def value(self) -> float:
        return self.values[0]

    @property
    def values(self) -> tuple[float, ...]:
        highest = self._highest
        if not highest.ready:
            return (math.nan, math.nan)
        newest = highest.bars - 1
        period = self.timeperiod
        factor = self._factor
        down = factor * (period - (newest - self._lowest.bar))
        up = factor * (period - (newest - highest.bar))
        return (down, up)

    def update(self, high: float, low: float) -> None:
        self._highest.update(high)
        self._lowest.update(low)


class AroonOscillator(Aroon):
    """``talib.AROONOSC``: Aroon up minus Aroon down.

    >>> oscillator = AroonOscillator(timeperiod=2)
    >>> for high, low in [(10.0, 9.0), (12.0, 8.0), (13.0, 10.0)]:
    ...     oscillator.update(high, low)
    >>> oscillator.value
    50.0
    """

    __slots__ = ()
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    @property
    def values(self) -> tuple[float, ...]:
        highest = self._highest
        if not highest.ready:
            return (math.nan,)
        return (self._factor * (highest.bar - self._lowest.bar),)


TALIB_FUNCTIONS: dict[str, type] = {
    "AROON": Aroon,
    "AROONOSC": AroonOscillator,
}
