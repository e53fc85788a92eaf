"""TA-Lib's volatility indicators, one bar at a time: TRANGE, ATR, NATR, ADR, CVI, MASSI, RVI.

Every class follows the indicator contract of :mod:`operators.ta.base`. Running sums are
updated in TA-Lib's order (add, publish, subtract) so they carry the same rounding as the batch
function.

>>> true_range = TrueRange()
>>> for high, low, close in [(10.0, 9.0, 9.5), (10.5, 9.8, 10.0)]:
...     true_range.update(high, low, close)
>>> true_range.value
1.0
"""

from __future__ import annotations

import math
from collections import deque
from typing import ClassVar

from operators.ta.base import NAN, Indicator, Period, is_zero
from operators.ta.indicators.overlap import WilderMovingAverage, moving_average

MAXIMUM_PERIOD = 100_000
VARIANCE_RESYNC_INTERVAL = 64
EXPONENTIAL = 1  # TA-Lib's matype of the EMA


def true_range(high: float, low: float, previous_close: float) -> float:
    """``max(high - low, |high - previous close|, |low - previous close|)``, compared in TA-Lib's order."""
    greatest = high - low
    above = abs(previous_close - high)
    if above > greatest:
        greatest = above
    below = abs(previous_close - low)
    if below > greatest:
        greatest = below
    return greatest


class TrueRange(Indicator):
    """TRANGE: ``max(high - low, |high - previous close|, |low - previous close|)``; NaN on bar one.

    >>> indicator = TrueRange()
    >>> indicator.update(10.0, 9.0, 9.5); indicator.ready
    False
    """

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")
    __slots__ = ("_previous_close",)

    def _reset(self) -> None:
        super()._reset()
        self._previous_close = NAN

    def update(self, high: float, low: float, close: float) -> None:
        previous_close = self._previous_close
        self._previous_close = close
        if previous_close != previous_close:
            return
        self._value = true_range(high, low, previous_close)


class WilderAverageTrueRange(Indicator):
    """ATR: Wilder-smoothed true range, seeded with the mean of the first ``timeperiod`` ranges.

    >>> indicator = WilderAverageTrueRange(timeperiod=2)
    >>> for bar in [(10.0, 9.0, 9.5), (10.5, 9.5, 10.0), (11.0, 10.0, 10.8)]:
    ...     indicator.update(*bar)
    >>> indicator.value
    1.0
    """

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")
    parameters = (Period("timeperiod", 14, minimum=1, maximum=MAXIMUM_PERIOD),)
    __slots__ = ("timeperiod", "_true_range", "_average")

    def _reset(self) -> None:
        super()._reset()
        self._true_range = TrueRange()
        self._average = WilderMovingAverage(timeperiod=self.timeperiod)

    def update(self, high: float, low: float, close: float) -> None:
        true_range = self._true_range
        true_range.update(high, low, close)
        if true_range.ready:
            average = self._average
            average.update(true_range.value)
            self._value = average.value


class NormalizedAverageTrueRange(WilderAverageTrueRange):
    """NATR: ``100 * ATR / close``, and 0 where the close is (TA-Lib's) zero.

    Like ``talib.NATR``, ``timeperiod=1`` gives the raw true range, not normalised by the close.

    >>> indicator = NormalizedAverageTrueRange(timeperiod=2)
    >>> for bar in [(10.0, 9.0, 9.5), (10.5, 9.5, 10.0), (11.0, 10.0, 10.0)]:
    ...     indicator.update(*bar)
    >>> indicator.value
    10.0
    """

    __slots__ = ()

    def update(self, high: float, low: float, close: float) -> None:
        super().update(high, low, close)
        average = self._value
        if average == average and self.timeperiod != 1:
            self._value = 0.0 if is_zero(close) else (average / close) * 100.0


class AverageDayRange(Indicator):
    """ADR: the simple average of ``high - low`` over the last ``timeperiod`` bars.

    >>> indicator = AverageDayRange(timeperiod=2)
    >>> for high, low in [(10.0, 9.0), (11.0, 9.0)]:
    ...     indicator.update(high, low)
    >>> indicator.value
    1.5
    """

    inputs: ClassVar[tuple[str, ...]] = ("high", "low")
    parameters = (Period("timeperiod", 14, minimum=1, maximum=MAXIMUM_PERIOD),)
    __slots__ = ("timeperiod", "_ranges", "_total")

    def _reset(self) -> None:
        super()._reset()
        self._ranges: deque[float] = deque(maxlen=self.timeperiod)
        self._total = 0.0

    def update(self, high: float, low: float) -> None:
        ranges = self._ranges
        day_range = high - low
        if len(ranges) == self.timeperiod:
            self._total -= ranges[0]  # the bar leaving the window, subtracted after its last output
        ranges.append(day_range)
        self._total += day_range
        if len(ranges) == self.timeperiod:
            self._value = self._total / self.timeperiod


class ChaikinVolatility(Indicator):
    """CVI: the ``rocperiod``-bar percent change of an EMA of ``high - low`` (0 from a zero EMA).

    >>> indicator = ChaikinVolatility(timeperiod=2, rocperiod=1)
    >>> for high, low in [(10.0, 9.0), (10.0, 9.0), (10.0, 8.0)]:
    ...     indicator.update(high, low)
    >>> round(indicator.value, 6)
    66.666667
    """

    inputs: ClassVar[tuple[str, ...]] = ("high", "low")
    parameters = (Period("timeperiod", 10, minimum=2, maximum=MAXIMUM_PERIOD),
                  Period("rocperiod", 10, minimum=1, maximum=MAXIMUM_PERIOD))
    __slots__ = ("timeperiod", "rocperiod", "_average", "_history")

    def _reset(self) -> None:
        super()._reset()
        self._average = moving_average(EXPONENTIAL, self.timeperiod)
        self._history: deque[float] = deque(maxlen=self.rocperiod + 1)

    def update(self, high: float, low: float) -> None:
        average = self._average
        average.update(high - low)
        if not average.ready:
            return
        history = self._history
        history.append(average.value)
        if len(history) > self.rocperiod:
            earlier = history[0]
            self._value = 0.0 if earlier == 0.0 else (average.value - earlier) / earlier * 100.0


class MassIndex(Indicator):
    """MASSI: the ``slowperiod``-bar sum of EMA(range) / EMA(EMA(range)); a zero denominator counts 1.

    >>> indicator = MassIndex(fastperiod=2, slowperiod=2)
    >>> for high, low in [(10.0, 9.0)] * 4:
    ...     indicator.update(high, low)
    >>> indicator.value
    2.0
    """

    inputs: ClassVar[tuple[str, ...]] = ("high", "low")
    parameters = (Period("fastperiod", 9, minimum=2, maximum=MAXIMUM_PERIOD),
                  Period("slowperiod", 25, minimum=2, maximum=MAXIMUM_PERIOD))
    __slots__ = ("fastperiod", "slowperiod", "_single", "_double", "_ratios", "_total")

    def _reset(self) -> None:
        super()._reset()
        self._single = moving_average(EXPONENTIAL, self.fastperiod)
        self._double = moving_average(EXPONENTIAL, self.fastperiod)
        self._ratios: deque[float] = deque(maxlen=self.slowperiod)
        self._total = 0.0

    def update(self, high: float, low: float) -> None:
        single = self._single
        single.update(high - low)
        if not single.ready:
            return
        double = self._double
        double.update(single.value)
        if not double.ready:
            return
        ratio = 1.0 if double.value == 0.0 else single.value / double.value
        ratios = self._ratios
        if len(ratios) == self.slowperiod:
            self._total -= ratios[0]
        ratios.append(ratio)
        self._total += ratio
        if len(ratios) == self.slowperiod:
            self._value = self._total


class RelativeVolatilityIndex(Indicator):
    """RVI: RSI's up/down split applied to the rolling standard deviation of the close.

    Each bar's population standard deviation over ``stddevperiod`` closes goes to the "up" leg
    when the close rose and to the "down" leg when it fell (a tie feeds neither); both legs are
    Wilder-smoothed over ``timeperiod`` (seeded with their plain mean) and the output is
    ``100 * up / (up + down)``, or 50 when both are zero. The deviation comes from sums shifted
    by a recent mean, recomputed exactly from the window every few dozen bars.

    >>> indicator = RelativeVolatilityIndex(timeperiod=2, stddevperiod=2)
    >>> for close in [1.0, 2.0, 3.0, 2.0]:
    ...     indicator.update(close)
    >>> indicator.value
    50.0
    """

    parameters = (Period("timeperiod", 14, minimum=1, maximum=MAXIMUM_PERIOD),
                  Period("stddevperiod", 10, minimum=2, maximum=MAXIMUM_PERIOD))
    __slots__ = ("timeperiod", "stddevperiod", "_window", "_shift", "_shifted_sum", "_shifted_squares",
                 "_since_resync", "_previous_close", "_legs_seen", "_up", "_down")

    def _reset(self) -> None:
        super()._reset()
        self._window: deque[float] = deque(maxlen=self.stddevperiod)
        self._shift = NAN
        self._shifted_sum = 0.0
        self._shifted_squares = 0.0
        self._since_resync = 0
        self._previous_close = NAN
        self._legs_seen = 0
        self._up = 0.0
        self._down = 0.0

    def _resync(self) -> None:
        """Recompute the shifted sums exactly from the window, shifted by its mean."""
        window = self._window
        shift = sum(window) / len(window)
        self._shift = shift
        self._shifted_sum = sum(value - shift for value in window)
        self._shifted_squares = sum((value - shift) * (value - shift) for value in window)
        self._since_resync = 0

    def _standard_deviation(self, close: float) -> float:
        window = self._window
        period = self.stddevperiod
        if self._shift != self._shift:
            self._shift = close
        shift = self._shift
        if len(window) == period:
            leaving = window[0] - shift
            self._shifted_sum -= leaving
            self._shifted_squares -= leaving * leaving
        window.append(close)
        arriving = close - shift
        self._shifted_sum += arriving
        self._shifted_squares += arriving * arriving
        if len(window) < period:
            return NAN
        self._since_resync += 1
        if self._since_resync >= VARIANCE_RESYNC_INTERVAL:
            self._resync()
        mean = self._shifted_sum / period
        variance = self._shifted_squares / period - mean * mean
        return math.sqrt(variance) if variance > 0.0 else 0.0

    def update(self, close: float) -> None:
        deviation = self._standard_deviation(close)
        previous_close = self._previous_close
        self._previous_close = close
        if deviation != deviation:
            return
        change = close - previous_close
        up = deviation if change > 0.0 else 0.0
        down = deviation if change < 0.0 else 0.0
        period = self.timeperiod
        self._legs_seen += 1
        if self._legs_seen <= period:
            self._up += up
            self._down += down
            if self._legs_seen < period:
                return
            self._up /= period
            self._down /= period
        else:
            keep = (period - 1) / period
            rate = 1.0 - keep
            self._up = keep * self._up + rate * up
            self._down = keep * self._down + rate * down
        total = self._up + self._down
        self._value = 50.0 if total == 0.0 else 100.0 * (self._up / total)


TALIB_FUNCTIONS: dict[str, type[Indicator]] = {
    "ADR": AverageDayRange,
    "ATR": WilderAverageTrueRange,
    "CVI": ChaikinVolatility,
    "MASSI": MassIndex,
    "NATR": NormalizedAverageTrueRange,
    "RVI": RelativeVolatilityIndex,
    "TRANGE": TrueRange,
}
