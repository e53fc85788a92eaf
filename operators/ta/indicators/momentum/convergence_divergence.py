"""MACD as TA-Lib computes it: ``talib.MACD``, ``MACDFIX`` and ``MACDEXT``.

The MACD line is ``fast average - slow average``, the signal line an average of the MACD line
and the histogram their difference. TA-Lib starts both averages so that they produce their
first value on the same bar: the one with the shorter lookback skips the inputs it does not
need (for MACD the fast EMA skips ``slowperiod - fastperiod`` closes). If ``slowperiod`` is
shorter than ``fastperiod`` the two are swapped, as TA-Lib does. All three outputs are NaN
until the signal line has its first value.

>>> macd = ConvergenceDivergence(fastperiod=2, slowperiod=3, signalperiod=2)
>>> for close in [1.0, 2.0, 3.0, 4.0, 5.0]:
...     macd.update(close)
>>> macd.values
(0.5, 0.5, 0.0)
"""

from __future__ import annotations

import math
from typing import ClassVar

from operators.ta.indicators.base import require_period
from operators.ta.indicators.momentum._exponential import SeededExponentialAverage
from operators.ta.indicators.momentum._parameters import require_moving_average_type
from operators.ta.indicators.overlap import SingleAverage, moving_average, moving_average_lookback

_NOT_READY = (math.nan, math.nan, math.nan)
Average = SeededExponentialAverage | SingleAverage


class _ConvergenceDivergence:
    """Fast minus slow, each started after its own delay, and a signal average over it."""

    __slots__ = ("_fast", "_slow", "_signal", "_fast_delay", "_slow_delay", "_seen", "_macd")

    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("macd", "macdsignal", "macdhist")

    def _averages(self) -> tuple[Average, Average, Average, int, int]:
        """Fresh fast, slow and signal averages, and how many inputs fast and slow skip."""
        raise NotImplementedError

    def _reset(self) -> None:
        self._fast, self._slow, self._signal, self._fast_delay, self._slow_delay = self._averages()
        self._seen = 0
        self._macd = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._signal.ready

    @property
    def value(self) -> float:
        return self._macd if self._signal.ready else math.nan

    @property
    def values(self) -> tuple[float, ...]:
        if not self._signal.ready:
            return _NOT_READY
        signal = self._signal.value
        return (self._macd, signal, self._macd - signal)

    def update(self, close: float) -> None:
        seen = self._seen
        if seen <= self._fast_delay or seen <= self._slow_delay:
            self._seen = seen = seen + 1
        if seen > self._fast_delay:
            self._fast.update(close)
        if seen > self._slow_delay:
            self._slow.update(close)
        if self._fast.ready and self._slow.ready:
            self._macd = self._fast.value - self._slow.value
            self._signal.update(self._macd)


class ConvergenceDivergence(_ConvergenceDivergence):
    """``talib.MACD``: EMAs of ``fastperiod`` and ``slowperiod`` closes, EMA signal line."""

    __slots__ = ("fastperiod", "slowperiod", "signalperiod")

    def __init__(self, fastperiod: int = 12, slowperiod: int = 26, signalperiod: int = 9) -> None:
        require_period("fastperiod", fastperiod, minimum=2)
        require_period("slowperiod", slowperiod, minimum=2)
        require_period("signalperiod", signalperiod)
        self.fastperiod = fastperiod
        self.slowperiod = slowperiod
        self.signalperiod = signalperiod
        self._reset()

    def _averages(self) -> tuple[Average, Average, Average, int, int]:
        fast, slow = sorted((self.fastperiod, self.slowperiod))
        return (SeededExponentialAverage(fast), SeededExponentialAverage(slow),
                SeededExponentialAverage(self.signalperiod), slow - fast, 0)


class FixedConvergenceDivergence(_ConvergenceDivergence):
    """``talib.MACDFIX``: the classic 12/26 MACD with fixed smoothing 0.15 and 0.075.

    >>> macd = FixedConvergenceDivergence(signalperiod=1)
    >>> for close in range(1, 27):
    ...     macd.update(float(close))
    >>> macd.values
    (7.0, 7.0, 0.0)
    """

    __slots__ = ("signalperiod",)

    def __init__(self, signalperiod: int = 9) -> None:
        require_period("signalperiod", signalperiod)
        self.signalperiod = signalperiod
        self._reset()

    def _averages(self) -> tuple[Average, Average, Average, int, int]:
        return (SeededExponentialAverage(12, smoothing=0.15), SeededExponentialAverage(26, smoothing=0.075),
                SeededExponentialAverage(self.signalperiod), 26 - 12, 0)


class ExtendedConvergenceDivergence(_ConvergenceDivergence):
    """``talib.MACDEXT``: MACD with a TA-Lib moving-average type chosen for each line.

    >>> macd = ExtendedConvergenceDivergence(fastperiod=2, slowperiod=3, signalperiod=2)
    >>> for close in [0.0, 3.0, 3.0, 6.0]:
    ...     macd.update(close)
    >>> macd.values
    (0.5, 0.75, -0.25)
    """

    __slots__ = ("fastperiod", "fastmatype", "slowperiod", "slowmatype", "signalperiod", "signalmatype")

    def __init__(self, fastperiod: int = 12, fastmatype: int = 0, slowperiod: int = 26, slowmatype: int = 0,
                 signalperiod: int = 9, signalmatype: int = 0) -> None:
        require_period("fastperiod", fastperiod, minimum=2)
        require_moving_average_type("fastmatype", fastmatype)
        require_period("slowperiod", slowperiod, minimum=2)
        require_moving_average_type("slowmatype", slowmatype)
        require_period("signalperiod", signalperiod)
        require_moving_average_type("signalmatype", signalmatype)
        self.fastperiod = fastperiod
        self.fastmatype = fastmatype
        self.slowperiod = slowperiod
        self.slowmatype = slowmatype
        self.signalperiod = signalperiod
        self.signalmatype = signalmatype
        self._reset()

    def _averages(self) -> tuple[Average, Average, Average, int, int]:
        fast = (self.fastperiod, self.fastmatype)
        slow = (self.slowperiod, self.slowmatype)
        if self.slowperiod < self.fastperiod:
            fast, slow = slow, fast
        fast_lookback = moving_average_lookback(fast[1], fast[0])
        slow_lookback = moving_average_lookback(slow[1], slow[0])
        largest = max(fast_lookback, slow_lookback)
        return (moving_average(fast[1], fast[0]), moving_average(slow[1], slow[0]),
                moving_average(self.signalmatype, self.signalperiod),
                largest - fast_lookback, largest - slow_lookback)


TALIB_FUNCTIONS: dict[str, type] = {
    "MACD": ConvergenceDivergence,
    "MACDEXT": ExtendedConvergenceDivergence,
    "MACDFIX": FixedConvergenceDivergence,
}
