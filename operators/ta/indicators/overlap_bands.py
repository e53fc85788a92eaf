"""TA-Lib's bands and channels ("Overlap Studies"), fed one bar at a time.

Each follows the indicator contract of :mod:`operators.ta.base`: TA-Lib's parameter names and
defaults, ``update(*inputs)`` in O(1) (O(1) amortised for the rolling highs and lows, kept in
monotonic deques), ``values`` with NaN where TA-Lib has none, ``value``, ``ready`` and
``reset()``. The parabolic stops and SuperTrend live in
:mod:`~operators.ta.indicators.overlap_stops`.

>>> bands = DonchianChannels(timeperiod=2)
>>> for high, low in [(10.0, 8.0), (11.0, 9.0), (10.5, 9.5)]:
...     bands.update(high, low)
>>> bands.values
(11.0, 10.0, 9.0)
"""

from __future__ import annotations

import math

from operators.ta.base import Indicator, MovingAverageType, MultiOutputIndicator, Number, Period, is_zero
from operators.ta.indicators.volatility import WilderAverageTrueRange
from operators.ta.indicators.momentum.rolling_window import RollingRange
from operators.ta.indicators.overlap import (
    LARGEST_REAL,
    ExponentialMovingAverage,
    SimpleMovingAverage,
    moving_average,
    moving_average_lookback,
)
from operators.ta.indicators.statistic import Variance


class ThreeBands(MultiOutputIndicator):
    """The outputs every band study shares: (upper, middle, lower)."""

    __slots__ = ()
    outputs = ("upperband", "middleband", "lowerband")


class BollingerBands(ThreeBands):
    """``talib.BBANDS``: a ``matype`` moving average plus/minus population standard deviations.

    TA-Lib 0.8 takes the deviation from a variance that sums deviations from a shift near the
    window (not the cancelling ``mean(x^2) - mean^2`` of older releases); we use the statistic
    family's :class:`~operators.ta.indicators.statistic.Variance`, the same technique (~1e-11
    agreement, and exactly zero on a flat window), started where TA-Lib starts it: the
    average's lookback minus ``timeperiod - 1``. A variance below 1e-14 counts as zero.

    >>> bands = BollingerBands(timeperiod=3, nbdevup=2.0, nbdevdn=2.0, matype=0)
    >>> for close in [1.0, 2.0, 3.0]:
    ...     bands.update(close)
    >>> [round(band, 6) for band in bands.values]
    [3.632993, 2.0, 0.367007]
    """

    __slots__ = ("timeperiod", "nbdevup", "nbdevdn", "matype", "_average", "_variance", "_bar", "_variance_start")
    parameters = (
        Period("timeperiod", 20, minimum=2),
        Number("nbdevup", 2.0, -LARGEST_REAL, LARGEST_REAL),
        Number("nbdevdn", 2.0, -LARGEST_REAL, LARGEST_REAL),
        MovingAverageType("matype", 0),
    )

    def _reset(self) -> None:
        super()._reset()
        self._average = moving_average(self.matype, self.timeperiod)
        self._variance = Variance(timeperiod=self.timeperiod)
        self._bar = 0
        self._variance_start = max(0, moving_average_lookback(self.matype, self.timeperiod) - (self.timeperiod - 1))

    def update(self, close: float) -> None:
        average = self._average
        average.update(close)
        bar = self._bar
        self._bar = bar + 1
        if bar < self._variance_start:
            return
        variance = self._variance
        variance.update(close)
        middle = average.value
        if not variance.ready or middle != middle:
            return
        spread = variance.value
        deviation = math.sqrt(spread) if spread >= 1e-14 else 0.0
        self._values = (middle + deviation * self.nbdevup, middle, middle - deviation * self.nbdevdn)


class AccelerationBands(ThreeBands):
    """``talib.ACCBANDS`` (Headley): SMAs of ``high * (1 + 4 (h - l) / (h + l))``, of the close
    and of ``low * (1 - 4 (h - l) / (h + l))``.

    >>> bands = AccelerationBands(timeperiod=2)
    >>> for high, low, close in [(11.0, 9.0, 10.0), (12.0, 10.0, 11.0)]:
    ...     bands.update(high, low, close)
    >>> [round(band, 6) for band in bands.values]
    [15.881818, 10.5, 5.881818]
    """

    __slots__ = ("timeperiod", "_upper", "_middle", "_lower")
    inputs = ("high", "low", "close")
    parameters = (Period("timeperiod", 20, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._upper = SimpleMovingAverage(timeperiod=self.timeperiod)
        self._middle = SimpleMovingAverage(timeperiod=self.timeperiod)
        self._lower = SimpleMovingAverage(timeperiod=self.timeperiod)

    def update(self, high: float, low: float, close: float) -> None:
        width = high + low
        if is_zero(width):
            upper, lower = high, low
        else:
            width = 4 * (high - low) / width
            upper, lower = high * (1 + width), low * (1 - width)
        self._upper.update(upper)
        self._middle.update(close)
        self._lower.update(lower)
        if self._middle.ready:
            self._values = (self._upper.value, self._middle.value, self._lower.value)


class DonchianChannels(ThreeBands):
    """``talib.DONCHIAN``: highest high, midpoint and lowest low of the last ``timeperiod`` bars.

    >>> channels = DonchianChannels(timeperiod=2)
    >>> for high, low in [(10.0, 8.0), (11.0, 9.0)]:
    ...     channels.update(high, low)
    >>> channels.values
    (11.0, 9.5, 8.0)
    """

    __slots__ = ("timeperiod", "_range")
    inputs = ("high", "low")
    parameters = (Period("timeperiod", 20, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._range = RollingRange(self.timeperiod)

    def update(self, high: float, low: float) -> None:
        window_range = self._range
        window_range.update(high, low)
        if window_range.ready:
            upper, lower = window_range.highest, window_range.lowest
            self._values = (upper, (upper + lower) / 2.0, lower)


class KeltnerChannels(ThreeBands):
    """``talib.KC``: EMA of the typical price plus/minus ``nbdev`` ATRs.

    Each leg enters the stream where TA-Lib enters it (at its own lookback before the first
    band), so the EMA and the ATR are seeded on the same bars as TA-Lib's.

    >>> channels = KeltnerChannels(timeperiod=2, atrperiod=1, nbdev=1.0)
    >>> for high, low, close in [(11.0, 9.0, 10.0), (12.0, 10.0, 11.0)]:
    ...     channels.update(high, low, close)
    >>> channels.values
    (12.5, 10.5, 8.5)
    """

    __slots__ = ("timeperiod", "atrperiod", "nbdev", "_average", "_range", "_bar", "_average_start", "_range_start")
    inputs = ("high", "low", "close")
    parameters = (
        Period("timeperiod", 20, minimum=2),
        Period("atrperiod", 10),
        Number("nbdev", 2.0, -LARGEST_REAL, LARGEST_REAL),
    )

    def _reset(self) -> None:
        super()._reset()
        self._average = ExponentialMovingAverage(timeperiod=self.timeperiod)
        self._range = WilderAverageTrueRange(timeperiod=self.atrperiod)
        lookback = max(self.timeperiod - 1, self.atrperiod)
        self._average_start = lookback - (self.timeperiod - 1)
        self._range_start = lookback - self.atrperiod
        self._bar = 0

    def update(self, high: float, low: float, close: float) -> None:
        bar = self._bar
        self._bar = bar + 1
        if bar >= self._average_start:
            self._average.update((high + low + close) / 3.0)
        if bar >= self._range_start:
            self._range.update(high, low, close)
        if self._average.ready and self._range.ready:
            middle = self._average.value
            offset = self._range.value * self.nbdev
            self._values = (middle + offset, middle, middle - offset)


class MidPrice(Indicator):
    """``talib.MIDPRICE``: ``(highest high + lowest low) / 2`` of the last ``timeperiod`` bars, the
    middle Donchian channel.

    >>> midprice = MidPrice(timeperiod=2)
    >>> for high, low in [(10.0, 8.0), (11.0, 9.0)]:
    ...     midprice.update(high, low)
    >>> midprice.value
    9.5
    """

    __slots__ = ("timeperiod", "_channels")
    inputs = ("high", "low")
    parameters = (Period("timeperiod", 14, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._channels = DonchianChannels(timeperiod=self.timeperiod)

    def update(self, high: float, low: float) -> None:
        channels = self._channels
        channels.update(high, low)
        self._value = channels.values[1]


class MidPoint(MidPrice):
    """``talib.MIDPOINT``: ``(highest + lowest) / 2`` of the last ``timeperiod`` values.

    >>> midpoint = MidPoint(timeperiod=2)
    >>> for close in [1.0, 4.0, 2.0]:
    ...     midpoint.update(close)
    >>> midpoint.value
    3.0
    """

    __slots__ = ()
    inputs = ("close",)

    def update(self, close: float) -> None:  # type: ignore[override]
        super().update(close, close)


TALIB_FUNCTIONS: dict[str, type[Indicator]] = {
    "BBANDS": BollingerBands,
    "ACCBANDS": AccelerationBands,
    "DONCHIAN": DonchianChannels,
    "KC": KeltnerChannels,
    "MIDPOINT": MidPoint,
    "MIDPRICE": MidPrice,
}
