"""TA-Lib's moving averages over a fixed window: SMA, WMA, TRIMA, HMA and VWMA.

Each keeps its window (``timeperiod`` values) and the running sums TA-Lib keeps, updated in
TA-Lib's order, so values equal TA-Lib's batch functions bit for bit. With ``timeperiod=1``
every average returns its input, as TA-Lib does.

>>> average = SimpleMovingAverage(timeperiod=3)
>>> for close in [1.0, 2.0, 3.0, 4.0]:
...     average.update(close)
>>> average.value
3.0
"""

from __future__ import annotations

import math
from collections import deque
from typing import ClassVar

from operators.ta.base import Average, Indicator, Period
from operators.ta.ring import FloatRing


class SimpleMovingAverage(Indicator):
    """``talib.SMA``: mean of the last ``timeperiod`` values.

    >>> average = SimpleMovingAverage(timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> average.value
    3.0
    """

    __slots__ = ("timeperiod", "_window", "_total")
    parameters = (Period("timeperiod", 30),)

    def _reset(self) -> None:
        super()._reset()
        self._window = FloatRing(self.timeperiod)
        self._total = 0.0

    def update(self, close: float) -> None:
        period = self.timeperiod
        window = self._window
        window.append(close)
        # TA-Lib adds the new value, divides, then drops the oldest of the window.
        total = self._total + close
        if len(window) == period:
            self._value = total / period
            total -= window[0]
        self._total = total


class WeightedMovingAverage(Average):
    """``talib.WMA``: weights 1..timeperiod, newest heaviest, kept as two rolling sums.

    Like TA-Lib 0.8, both sums are recomputed from the window every ``8 * timeperiod`` outputs
    (O(1) amortised), which bounds their rounding drift and keeps values bit-identical.

    >>> average = WeightedMovingAverage(timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    3.333333
    """

    __slots__ = ("_divider", "_window", "_plain_sum", "_weighted_sum", "_trailing", "_until_resync")

    RESYNC_PERIODS: ClassVar[int] = 8

    def _reset(self) -> None:
        super()._reset()
        self._divider = float(self.timeperiod * (self.timeperiod + 1) // 2)
        self._window: deque[float] = deque(maxlen=self.timeperiod)
        self._plain_sum = 0.0
        self._weighted_sum = 0.0
        self._trailing = 0.0
        self._until_resync = self.RESYNC_PERIODS * self.timeperiod

    def _advance(self, close: float) -> None:
        period = self.timeperiod
        window = self._window
        window.append(close)
        if len(window) < period:
            self._plain_sum += close
            self._weighted_sum += close * len(window)
            return
        self._until_resync -= 1
        if self._until_resync == 0:
            self._until_resync = self.RESYNC_PERIODS * period
            plain_sum = weighted_sum = 0.0
            for weight, value in enumerate(window, start=1):
                plain_sum += value
                weighted_sum += value * weight
        else:
            plain_sum = self._plain_sum + close
            plain_sum -= self._trailing
            weighted_sum = self._weighted_sum + close * period
        self._trailing = window[0]
        self._value = weighted_sum / self._divider
        self._weighted_sum = weighted_sum - plain_sum
        self._plain_sum = plain_sum


class TriangularMovingAverage(Average):
    """``talib.TRIMA``: triangular weights ``1, 2, .., 2, 1`` over ``timeperiod`` values.

    Kept as TA-Lib keeps it, so values are bit-identical: a weighted numerator plus the plain
    sums of the window's older half (``(n+1)//2`` values for odd ``n``, ``n//2`` for even ``n``)
    and newer half, updated in TA-Lib's order and scaled by ``1 / sum of weights``. (An exact
    SMA of an SMA drifts from TA-Lib by ~1e-9 on hourly prices, which a difference of two
    TRIMAs, as in APO or MACDEXT, exposes.)

    >>> average = TriangularMovingAverage(timeperiod=3)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> average.value
    2.25
    """

    __slots__ = ("_factor", "_window", "_numerator", "_older_sum", "_newer_sum")

    def _reset(self) -> None:
        super()._reset()
        half = self.timeperiod // 2
        self._factor = 1.0 / ((half + 1) * (half + 1) if self.timeperiod % 2 else half * (half + 1))
        self._window: deque[float] = deque(maxlen=self.timeperiod + 1)
        self._numerator = 0.0
        self._older_sum = 0.0
        self._newer_sum = 0.0

    def _advance(self, close: float) -> None:
        period = self.timeperiod
        window = self._window
        window.append(close)
        if len(window) < period:
            return
        if len(window) == period:
            self._start(window)
            return
        # window[0] just left; the value at `middle` moves from the newer half to the older.
        odd = period % 2
        middle = window[period // 2 + odd]
        numerator = self._numerator - self._older_sum
        self._older_sum = self._older_sum - window[0] + middle
        newer_sum = self._newer_sum
        if odd:
            numerator += newer_sum
            newer_sum -= middle
        else:
            newer_sum -= middle
            numerator += newer_sum
        self._newer_sum = newer_sum + close
        self._numerator = numerator + close
        self._value = self._numerator * self._factor

    def _start(self, window: deque[float]) -> None:
        """First output: build the sums from the full window, in TA-Lib's order."""
        values = list(window)
        older_count = (self.timeperiod + 1) // 2
        numerator = older_sum = newer_sum = 0.0
        for value in reversed(values[:older_count]):
            older_sum += value
            numerator += older_sum
        for value in values[older_count:]:
            newer_sum += value
            numerator += newer_sum
        self._numerator, self._older_sum, self._newer_sum = numerator, older_sum, newer_sum
        self._value = numerator * self._factor


class HullMovingAverage(Average):
    """``talib.HMA``: ``WMA(2 * WMA(x, n // 2) - WMA(x, n), int(sqrt(n)))``.

    The half-period WMA starts where TA-Lib starts it (``n - n // 2`` bars in), so its rolling
    sums round exactly as TA-Lib's do.

    >>> average = HullMovingAverage(timeperiod=4)
    >>> for close in [1.0, 2.0, 4.0, 3.0, 5.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    4.433333
    """

    __slots__ = ("_seen", "_full", "_half", "_outer")
    parameters = (Period("timeperiod", 20),)

    def _reset(self) -> None:
        super()._reset()
        self._seen = 0
        self._full = WeightedMovingAverage(timeperiod=self.timeperiod)
        self._half = WeightedMovingAverage(timeperiod=max(self.timeperiod // 2, 1))
        self._outer = WeightedMovingAverage(timeperiod=math.isqrt(self.timeperiod))

    def _advance(self, close: float) -> None:
        period = self.timeperiod
        full = self._full
        full.update(close)
        if period <= 3:  # half and sqrt periods are both 1: 2 * x - WMA(x, n)
            if full._value == full._value:
                self._value = 2.0 * close - full._value
            return
        self._seen += 1
        if self._seen <= period - period // 2:
            return
        half = self._half
        half.update(close)
        if full._value == full._value:
            outer = self._outer
            outer.update(2.0 * half._value - full._value)
            self._value = outer._value


class VolumeWeightedMovingAverage(Indicator):
    """``talib.VWMA``: ``SMA(close * volume) / SMA(volume)`` over ``timeperiod`` bars.

    >>> average = VolumeWeightedMovingAverage(timeperiod=2)
    >>> for close, volume in [(1.0, 10.0), (2.0, 30.0), (4.0, 10.0)]:
    ...     average.update(close, volume)
    >>> average.value
    2.5
    """

    __slots__ = ("timeperiod", "_window", "_price_volume", "_volume")
    inputs = ("close", "volume")
    parameters = (Period("timeperiod", 30),)

    def _reset(self) -> None:
        super()._reset()
        self._window: deque[tuple[float, float]] = deque(maxlen=self.timeperiod)
        self._price_volume = 0.0
        self._volume = 0.0

    def update(self, close: float, volume: float) -> None:
        period = self.timeperiod
        if period == 1:
            self._value = close
            return
        window = self._window
        window.append((close, volume))
        price_volume = self._price_volume + close * volume
        total_volume = self._volume + volume
        if len(window) == period:
            self._value = ieee_divide(price_volume / period, total_volume / period)
            oldest_close, oldest_volume = window[0]
            price_volume -= oldest_close * oldest_volume
            total_volume -= oldest_volume
        self._price_volume = price_volume
        self._volume = total_volume


def ieee_divide(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` as C computes it: +-inf or NaN instead of raising on zero.

    >>> ieee_divide(1.0, 0.0), ieee_divide(0.0, 0.0)
    (inf, nan)
    """
    if denominator != 0.0:
        return numerator / denominator
    if numerator != numerator or numerator == 0.0:
        return math.nan
    return math.copysign(math.inf, numerator) * math.copysign(1.0, denominator)
