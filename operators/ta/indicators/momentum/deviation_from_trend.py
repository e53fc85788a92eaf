"""How far price sits from a trend estimate: ``talib.CCI``, ``talib.DPO``, ``talib.ERI`` and
``talib.FOSC``.

- CCI, the commodity channel index: ``(tp - mean) / (0.015 * mean absolute deviation)`` of the
  typical price ``tp = (high + low + close) / 3`` over ``timeperiod`` bars. The mean absolute
  deviation has no O(1) update, so CCI re-sums its window every bar, O(timeperiod), exactly as
  TA-Lib does: the typical prices sit in a circular buffer (bar ``i`` in slot ``i % timeperiod``)
  summed slot by slot, so the mean, the deviation and the output are bit-identical to TA-Lib's.
  Flat windows follow TA-Lib 0.8 too: the output is 0 when the numerator or the deviation is
  within ``1e-14 * |mean|`` (about 90 ulps of the price), so a window of equal typical prices,
  whose mean carries a rounding residue, gives exactly 0 at any price level.
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
from array import array
from collections import deque

from operators.ta.base import Indicator, MultiOutputIndicator, Period
from operators.ta.indicators.overlap import ExponentialMovingAverage, SimpleMovingAverage
from operators.ta.indicators.statistic import TimeSeriesForecast

#: TA-Lib 0.8's relative zero band (``TA_IS_ZERO_SCALED``): within this share of the mean is zero.
FLAT_TOLERANCE = 1e-14


class CommodityChannelIndex(Indicator):
    """``talib.CCI``: typical price against its mean, in units of 0.015 mean absolute deviation.

    >>> index = CommodityChannelIndex(timeperiod=3)
    >>> for bar in [(11.0, 9.0, 10.0), (12.0, 10.0, 11.0), (14.0, 12.0, 13.0)]:
    ...     index.update(*bar)
    >>> round(index.value, 6)
    100.0
    """

    __slots__ = ("timeperiod", "_typical_prices", "_slot", "_seen")
    inputs = ("high", "low", "close")
    parameters = (Period("timeperiod", 14, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._typical_prices = array("d", bytes(8 * self.timeperiod))  # a ring: ``_slot`` is the next write
        self._slot = 0
        self._seen = 0

    def update(self, high: float, low: float, close: float) -> None:
        typical = (high + low + close) / 3.0
        period = self.timeperiod
        prices = self._typical_prices
        prices[self._slot] = typical
        self._slot = (self._slot + 1) % period
        if self._seen < period:
            self._seen += 1
            if self._seen < period:
                return
        total = 0.0
        for price in prices:
            total += price
        mean = total / period
        deviation = 0.0
        for price in prices:
            deviation += abs(price - mean)
        deviation /= period
        distance = typical - mean
        band = FLAT_TOLERANCE * abs(mean)
        if abs(distance) <= band or abs(deviation) <= band:
            self._value = 0.0
        else:
            self._value = distance / (0.015 * deviation)


class DetrendedPriceOscillator(Indicator):
    """``talib.DPO``: an older close against the current simple average."""

    __slots__ = ("timeperiod", "_closes", "_average")
    parameters = (Period("timeperiod", 20, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._closes: deque[float] = deque(maxlen=self.timeperiod // 2 + 2)
        self._average = SimpleMovingAverage(timeperiod=self.timeperiod)

    def update(self, close: float) -> None:
        closes = self._closes
        closes.append(close)
        average = self._average
        average.update(close)
        if average.ready and len(closes) == closes.maxlen:
            self._value = closes[0] - average.value


class ElderRayIndex(MultiOutputIndicator):
    """``talib.ERI``: ``(bullpower, bearpower)`` = high and low minus the EMA of the close.

    >>> ray = ElderRayIndex(timeperiod=2)
    >>> for bar in [(11.0, 9.0, 10.0), (12.0, 10.0, 11.0)]:
    ...     ray.update(*bar)
    >>> ray.values
    (1.5, -0.5)
    """

    __slots__ = ("timeperiod", "_average")
    inputs = ("high", "low", "close")
    outputs = ("bullpower", "bearpower")
    parameters = (Period("timeperiod", 13),)

    def _reset(self) -> None:
        super()._reset()
        self._average = ExponentialMovingAverage(timeperiod=self.timeperiod)

    def update(self, high: float, low: float, close: float) -> None:
        average = self._average
        average.update(close)
        if average.ready:
            trend = average.value
            self._values = (high - trend, low - trend)


class ForecastOscillator(Indicator):
    """``talib.FOSC``: percent gap between the close and last bar's regression forecast.

    >>> oscillator = ForecastOscillator(timeperiod=2)
    >>> for close in [10.0, 11.0, 11.5]:
    ...     oscillator.update(close)
    >>> round(oscillator.value, 6)
    -4.347826
    """

    __slots__ = ("timeperiod", "_forecast", "_previous_forecast")
    parameters = (Period("timeperiod", 5, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._forecast = TimeSeriesForecast(timeperiod=self.timeperiod)
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
