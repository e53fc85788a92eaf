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

from operators.ta.base import Indicator, MovingAverageType, MultiOutputIndicator, Period
from operators.ta.indicators.momentum._exponential import SeededExponentialAverage
from operators.ta.indicators.overlap import moving_average, moving_average_lookback

AverageOrSeeded = SeededExponentialAverage | Indicator


class _ConvergenceDivergence(MultiOutputIndicator):
    """Fast minus slow, each started after its own delay, and a signal average over it."""

    __slots__ = ("_fast", "_slow", "_signal", "_fast_delay", "_slow_delay", "_seen")
    outputs = ("macd", "macdsignal", "macdhist")

    def _averages(self) -> tuple[AverageOrSeeded, AverageOrSeeded, AverageOrSeeded, int, int]:
        """Fresh fast, slow and signal averages, and how many inputs fast and slow skip."""
        raise NotImplementedError

    def _reset(self) -> None:
        super()._reset()
        self._fast, self._slow, self._signal, self._fast_delay, self._slow_delay = self._averages()
        self._seen = 0

    def update(self, close: float) -> None:
        seen = self._seen
        if seen <= self._fast_delay or seen <= self._slow_delay:
            self._seen = seen = seen + 1
        fast, slow = self._fast, self._slow
        if seen > self._fast_delay:
            fast.update(close)
        if seen > self._slow_delay:
            slow.update(close)
        if fast.ready and slow.ready:
            macd = fast.value - slow.value
            signal = self._signal
            signal.update(macd)
            if signal.ready:
                self._values = (macd, signal.value, macd - signal.value)


class ConvergenceDivergence(_ConvergenceDivergence):
    """``talib.MACD``: EMAs of ``fastperiod`` and ``slowperiod`` closes, EMA signal line."""

    __slots__ = ("fastperiod", "slowperiod", "signalperiod")
    parameters = (Period("fastperiod", 12, minimum=2), Period("slowperiod", 26, minimum=2), Period("signalperiod", 9))

    def _averages(self) -> tuple[AverageOrSeeded, AverageOrSeeded, AverageOrSeeded, int, int]:
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
    parameters = (Period("signalperiod", 9),)

    def _averages(self) -> tuple[AverageOrSeeded, AverageOrSeeded, AverageOrSeeded, int, int]:
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
    parameters = (Period("fastperiod", 12, minimum=2), MovingAverageType("fastmatype", 0),
                  Period("slowperiod", 26, minimum=2), MovingAverageType("slowmatype", 0),
                  Period("signalperiod", 9), MovingAverageType("signalmatype", 0))

    def _averages(self) -> tuple[AverageOrSeeded, AverageOrSeeded, AverageOrSeeded, int, int]:
        fast = (self.fastperiod, self.fastmatype)
        slow = (self.slowperiod, self.slowmatype)
        if self.slowperiod < self.fastperiod:
            fast, slow = slow, fast
        fast_lookback = moving_average_lookback(matype=fast[1], timeperiod=fast[0])
        slow_lookback = moving_average_lookback(matype=slow[1], timeperiod=slow[0])
        largest = max(fast_lookback, slow_lookback)
        return (moving_average(matype=fast[1], timeperiod=fast[0]), moving_average(matype=slow[1], timeperiod=slow[0]),
                moving_average(matype=self.signalmatype, timeperiod=self.signalperiod),
                largest - fast_lookback, largest - slow_lookback)


TALIB_FUNCTIONS: dict[str, type] = {
    "MACD": ConvergenceDivergence,
    "MACDEXT": ExtendedConvergenceDivergence,
    "MACDFIX": FixedConvergenceDivergence,
}
