"""How far price sits from a trend estimate: ``talib.CCI``, ``talib.DPO``, ``talib.ERI`` and
``talib.FOSC``.

- CCI, the commodity channel index: ``(tp - mean) / (0.015 * mean absolute deviation)`` of the
  typical price ``tp = (high + low + close) / 3`` over ``timeperiod`` bars; 0 where the numerator
  or the deviation is zero. The mean absolute deviation is the one statistic here without an O(1)
  update: the window is also kept sorted, with the sum of the values at or below the mean. The
  sorted position costs O(log n) to find (plus a C-level list shift), and moving the "below"
  boundary costs one step per value the mean crosses; sums are re-added from the window every
  ``timeperiod`` updates to bound drift. TA-Lib re-sums the window each bar, so on a flat window
  its deviation is exactly 0; ours is then a rounding residue, so a deviation sum below
  ``1e-13 * |window sum|`` counts as zero (a real one is many orders of magnitude larger).
- DPO, the detrended price oscillator: ``close (timeperiod // 2 + 1) bars ago - SMA(close,
  timeperiod)``, first value at bar ``max(timeperiod - 1, timeperiod // 2 + 1)``.
- ERI, Elder's ray: ``(high - EMA(close), low - EMA(close))``, bull and bear power.
- FOSC, the forecast oscillator: ``100 * (close - forecast) / close`` where the forecast is the
  previous bar's time-series forecast (least-squares line one bar ahead); 0 for a zero close.

>>> oscillator = DetrendedPriceOscillator(timeperiod=3)
>>> for close in [10.0, 11.0, 12.0, 14.0]:
...     oscillator.update(close)
>>> round(oscillator.value, 6)
-1.333333
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections import deque
from typing import ClassVar

from operators.ta.indicators.base import require_period
from operators.ta.indicators.overlap import ExponentialMovingAverage, SimpleMovingAverage
from operators.ta.indicators.statistic import TimeSeriesForecast


class _OneOutput:
    """Shared contract: one output, NaN until ready."""

    __slots__ = ("timeperiod", "_value")

    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int) -> None:
        require_period("timeperiod", timeperiod, 2)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._value == self._value

    @property
    def value(self) -> float:
        return self._value

    @property
    def values(self) -> tuple[float, ...]:
        return (self._value,)


class CommodityChannelIndex(_OneOutput):
    """``talib.CCI``: typical price against its mean, in units of 0.015 mean absolute deviation.

    >>> index = CommodityChannelIndex(timeperiod=3)
    >>> for bar in [(11.0, 9.0, 10.0), (12.0, 10.0, 11.0), (14.0, 12.0, 13.0)]:
    ...     index.update(*bar)
    >>> round(index.value, 6)
    100.0
    """

    __slots__ = ("_window", "_sorted", "_total", "_below_sum", "_below_count", "_threshold",
                 "_until_resync")
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")

    def __init__(self, timeperiod: int = 14) -> None:
        super().__init__(timeperiod)

    def _reset(self) -> None:
        super()._reset()
        self._window: deque[float] = deque()
        self._sorted: list[float] = []
        self._total = 0.0
        self._below_sum = 0.0  # sum of the sorted values <= self._threshold
        self._below_count = 0
        self._threshold = -math.inf
        self._until_resync = self.timeperiod

    def update(self, high: float, low: float, close: float) -> None:
        typical = (high + low + close) / 3.0
        window = self._window
        ordered = self._sorted
        threshold = self._threshold
        if len(window) == self.timeperiod:
            leaving = window.popleft()
            del ordered[bisect_left(ordered, leaving)]
            self._total -= leaving
            if leaving <= threshold:
                self._below_sum -= leaving
                self._below_count -= 1
        window.append(typical)
        insort(ordered, typical)
        self._total += typical
        if typical <= threshold:
            self._below_sum += typical
            self._below_count += 1
        self._until_resync -= 1
        if self._until_resync == 0:
            self._until_resync = self.timeperiod
            self._resync()
        period = self.timeperiod
        if len(window) < period:
            return
        mean = self._total / period
        self._move_threshold(mean)
        count = self._below_count
        below = self._below_sum
        deviation_sum = (self._total - below - mean * (period - count)) + (mean * count - below)
        distance = typical - mean
        if distance != 0.0 and deviation_sum > 1e-13 * abs(self._total):
            self._value = distance / (0.015 * (deviation_sum / period))
        else:
            self._value = 0.0

    def _move_threshold(self, mean: float) -> None:
        """Make the "below" part hold exactly the sorted values <= ``mean``."""
        ordered = self._sorted
        count = self._below_count
        below = self._below_sum
        size = len(ordered)
        while count < size and ordered[count] <= mean:
            below += ordered[count]
            count += 1
        while count > 0 and ordered[count - 1] > mean:
            count -= 1
            below -= ordered[count]
        self._below_count = count
        self._below_sum = below if count else 0.0
        self._threshold = mean

    def _resync(self) -> None:
        """Re-add the sums from the window (O(n) once every ``timeperiod`` updates)."""
        total = 0.0
        for typical in self._window:
            total += typical
        self._total = total
        ordered = self._sorted
        count = bisect_right(ordered, self._threshold)
        below = 0.0
        for index in range(count):
            below += ordered[index]
        self._below_count = count
        self._below_sum = below


class DetrendedPriceOscillator(_OneOutput):
    """``talib.DPO``: an older close against the current simple average."""

    __slots__ = ("_shift", "_closes", "_average")

    def __init__(self, timeperiod: int = 20) -> None:
        super().__init__(timeperiod)

    def _reset(self) -> None:
        super()._reset()
        self._shift = self.timeperiod // 2 + 1
        self._closes: deque[float] = deque(maxlen=self._shift + 1)
        self._average = SimpleMovingAverage(self.timeperiod)

    def update(self, close: float) -> None:
        closes = self._closes
        closes.append(close)
        average = self._average
        average.update(close)
        if average.ready and len(closes) > self._shift:
            self._value = closes[0] - average.value


class ElderRayIndex:
    """``talib.ERI``: ``(bullpower, bearpower)`` = high and low minus the EMA of the close.

    >>> ray = ElderRayIndex(timeperiod=2)
    >>> for bar in [(11.0, 9.0, 10.0), (12.0, 10.0, 11.0)]:
    ...     ray.update(*bar)
    >>> ray.values
    (1.5, -0.5)
    """

    __slots__ = ("timeperiod", "_average", "_values")

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")
    outputs: ClassVar[tuple[str, ...]] = ("bullpower", "bearpower")

    def __init__(self, timeperiod: int = 13) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._average = ExponentialMovingAverage(self.timeperiod)
        self._values = (math.nan, math.nan)

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._average.ready

    @property
    def value(self) -> float:
        return self._values[0]

    @property
    def values(self) -> tuple[float, ...]:
        return self._values

    def update(self, high: float, low: float, close: float) -> None:
        average = self._average
        average.update(close)
        if average.ready:
            trend = average.value
            self._values = (high - trend, low - trend)


class ForecastOscillator(_OneOutput):
    """``talib.FOSC``: percent gap between the close and last bar's regression forecast.

    >>> oscillator = ForecastOscillator(timeperiod=2)
    >>> for close in [10.0, 11.0, 11.5]:
    ...     oscillator.update(close)
    >>> round(oscillator.value, 6)
    -4.347826
    """

    __slots__ = ("_forecast", "_previous_forecast")

    def __init__(self, timeperiod: int = 5) -> None:
        super().__init__(timeperiod)

    def _reset(self) -> None:
        super()._reset()
        self._forecast = TimeSeriesForecast(self.timeperiod)
        self._previous_forecast = math.nan

    def update(self, close: float) -> None:
        previous = self._previous_forecast
        if previous == previous:
            self._value = 100.0 * (close - previous) / close if close != 0.0 else 0.0
        forecast = self._forecast
        forecast.update(close)
        if forecast.ready:
            self._previous_forecast = forecast.value


TALIB_FUNCTIONS: dict[str, type] = {
    "CCI": CommodityChannelIndex,
    "DPO": DetrendedPriceOscillator,
    "ERI": ElderRayIndex,
    "FOSC": ForecastOscillator,
}
