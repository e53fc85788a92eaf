"""TA-Lib's bands, channels and stops ("Overlap Studies"), fed one bar at a time.

Same contract as :mod:`operators.ta.indicators.overlap`: TA-Lib's parameter names and defaults,
``inputs`` / ``outputs`` naming TA-Lib's arrays, ``update(*inputs)`` in O(1) (O(1) amortised
for the rolling highs and lows, kept in monotonic deques), ``values`` with NaN where TA-Lib has
none, ``value``, ``ready`` and ``reset()``.

``SUPERTREND``'s second output (``trend``: +1 long, -1 short) is an integer array in TA-Lib,
which reads 0, not NaN, during the warm-up; ours does the same.

>>> bands = DonchianChannels(timeperiod=2)
>>> for high, low in [(10.0, 8.0), (11.0, 9.0), (10.5, 9.5)]:
...     bands.update(high, low)
>>> bands.values
(11.0, 10.0, 9.0)
"""

from __future__ import annotations

import math
from collections import deque
from typing import ClassVar

from operators.ta.indicators.atr import AverageTrueRange
from operators.ta.indicators.base import is_zero, require_period
from operators.ta.indicators.overlap import (
    ExponentialMovingAverage,
    SimpleMovingAverage,
    moving_average,
    moving_average_lookback,
    require_matype,
)
from operators.ta.indicators.statistic import Variance

NAN3 = (math.nan, math.nan, math.nan)


def require_number(name: str, value: object, minimum: float = -3e37) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a finite number >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value <= 3e37:
        raise ValueError(f"{name} must be a finite number >= {minimum}, got {value!r}")


class RollingExtreme:
    """Highest (or lowest) of the last ``period`` values, O(1) amortised (monotonic deque).

    >>> highest = RollingExtreme(period=2, highest=True)
    >>> for value in [3.0, 1.0, 2.0]:
    ...     highest.update(value)
    >>> highest.value
    2.0
    """

    __slots__ = ("period", "highest", "_candidates", "_count")

    def __init__(self, period: int, highest: bool) -> None:
        require_period("period", period)
        self.period = period
        self.highest = highest
        self._reset()

    def _reset(self) -> None:
        self._candidates: deque[tuple[int, float]] = deque()
        self._count = 0

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._count >= self.period

    @property
    def value(self) -> float:
        return self._candidates[0][1] if self._count >= self.period else math.nan

    def update(self, value: float) -> None:
        candidates = self._candidates
        if self.highest:
            while candidates and candidates[-1][1] <= value:
                candidates.pop()
        else:
            while candidates and candidates[-1][1] >= value:
                candidates.pop()
        candidates.append((self._count, value))
        self._count += 1
        if candidates[0][0] <= self._count - 1 - self.period:
            candidates.popleft()


class Bands:
    """Shared plumbing of the three-band studies: ``values`` is (upper, middle, lower)."""

    __slots__ = ("_values",)
    outputs: ClassVar[tuple[str, ...]] = ("upperband", "middleband", "lowerband")

    def _reset(self) -> None:
        self._values = NAN3

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._values[1] == self._values[1]

    @property
    def value(self) -> float:
        return self._values[0]

    @property
    def values(self) -> tuple[float, ...]:
        return self._values


class BollingerBands(Bands):
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
    inputs: ClassVar[tuple[str, ...]] = ("close",)

    def __init__(self, timeperiod: int = 20, nbdevup: float = 2.0, nbdevdn: float = 2.0, matype: int = 0) -> None:
        require_period("timeperiod", timeperiod, minimum=2)
        require_number("nbdevup", nbdevup)
        require_number("nbdevdn", nbdevdn)
        require_matype(matype)
        self.timeperiod = timeperiod
        self.nbdevup = float(nbdevup)
        self.nbdevdn = float(nbdevdn)
        self.matype = matype
        self._reset()

    def _reset(self) -> None:
        self._values = NAN3
        self._average = moving_average(self.matype, self.timeperiod)
        self._variance = Variance(self.timeperiod)
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


class AccelerationBands(Bands):
    """``talib.ACCBANDS`` (Headley): SMAs of ``high * (1 + 4 (h - l) / (h + l))``, of the close
    and of ``low * (1 - 4 (h - l) / (h + l))``.

    >>> bands = AccelerationBands(timeperiod=2)
    >>> for high, low, close in [(11.0, 9.0, 10.0), (12.0, 10.0, 11.0)]:
    ...     bands.update(high, low, close)
    >>> [round(band, 6) for band in bands.values]
    [15.881818, 10.5, 5.881818]
    """

    __slots__ = ("timeperiod", "_upper", "_middle", "_lower")
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")

    def __init__(self, timeperiod: int = 20) -> None:
        require_period("timeperiod", timeperiod, minimum=2)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._values = NAN3
        self._upper = SimpleMovingAverage(self.timeperiod)
        self._middle = SimpleMovingAverage(self.timeperiod)
        self._lower = SimpleMovingAverage(self.timeperiod)

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


class DonchianChannels(Bands):
    """``talib.DONCHIAN``: highest high, midpoint and lowest low of the last ``timeperiod`` bars.

    >>> channels = DonchianChannels(timeperiod=2)
    >>> for high, low in [(10.0, 8.0), (11.0, 9.0)]:
    ...     channels.update(high, low)
    >>> channels.values
    (11.0, 9.5, 8.0)
    """

    __slots__ = ("timeperiod", "_highest", "_lowest")
    inputs: ClassVar[tuple[str, ...]] = ("high", "low")

    def __init__(self, timeperiod: int = 20) -> None:
        require_period("timeperiod", timeperiod, minimum=2)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._values = NAN3
        self._highest = RollingExtreme(self.timeperiod, highest=True)
        self._lowest = RollingExtreme(self.timeperiod, highest=False)

    def update(self, high: float, low: float) -> None:
        self._highest.update(high)
        self._lowest.update(low)
        if self._highest.ready:
            upper, lower = self._highest.value, self._lowest.value
            self._values = (upper, (upper + lower) / 2.0, lower)


class KeltnerChannels(Bands):
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
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")

    def __init__(self, timeperiod: int = 20, atrperiod: int = 10, nbdev: float = 2.0) -> None:
        require_period("timeperiod", timeperiod, minimum=2)
        require_period("atrperiod", atrperiod)
        require_number("nbdev", nbdev)
        self.timeperiod = timeperiod
        self.atrperiod = atrperiod
        self.nbdev = float(nbdev)
        self._reset()

    def _reset(self) -> None:
        self._values = NAN3
        self._average = ExponentialMovingAverage(self.timeperiod)
        self._range = AverageTrueRange(self.atrperiod)
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


class MidPoint:
    """``talib.MIDPOINT``: ``(highest + lowest) / 2`` of the last ``timeperiod`` values.

    >>> midpoint = MidPoint(timeperiod=2)
    >>> for close in [1.0, 4.0, 2.0]:
    ...     midpoint.update(close)
    >>> midpoint.value
    3.0
    """

    __slots__ = ("timeperiod", "_highest", "_lowest")
    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int = 14) -> None:
        require_period("timeperiod", timeperiod, minimum=2)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._highest = RollingExtreme(self.timeperiod, highest=True)
        self._lowest = RollingExtreme(self.timeperiod, highest=False)

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._highest.ready

    @property
    def value(self) -> float:
        return (self._highest.value + self._lowest.value) / 2.0

    @property
    def values(self) -> tuple[float, ...]:
        return (self.value,)

    def update(self, close: float) -> None:
        self._highest.update(close)
        self._lowest.update(close)


class MidPrice(MidPoint):
    """``talib.MIDPRICE``: ``(highest high + lowest low) / 2`` of the last ``timeperiod`` bars.

    >>> midprice = MidPrice(timeperiod=2)
    >>> for high, low in [(10.0, 8.0), (11.0, 9.0)]:
    ...     midprice.update(high, low)
    >>> midprice.value
    9.5
    """

    __slots__ = ()
    inputs: ClassVar[tuple[str, ...]] = ("high", "low")

    def update(self, high: float, low: float) -> None:  # type: ignore[override]
        self._highest.update(high)
        self._lowest.update(low)


class ParabolicSarExtended:
    """``talib.SAREXT``: Wilder's parabolic stop with separate long/short acceleration, an
    optional start value (> 0 starts long at it, < 0 starts short at its magnitude, 0 lets the
    first two bars decide) and an offset on reversal. Short positions are reported negative.

    >>> sar = ParabolicSarExtended()
    >>> for high, low in [(10.0, 9.0), (11.0, 10.0), (12.0, 11.0)]:
    ...     sar.update(high, low)
    >>> round(sar.value, 4)
    9.04
    """

    __slots__ = (
        "startvalue", "offsetonreverse", "accelerationinitlong", "accelerationlong", "accelerationmaxlong",
        "accelerationinitshort", "accelerationshort", "accelerationmaxshort",
        "_start_long", "_step_long", "_start_short", "_step_short",
        "_bar", "_long", "_sar", "_extreme", "_factor_long", "_factor_short", "_high", "_low", "_value",
    )
    inputs: ClassVar[tuple[str, ...]] = ("high", "low")
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, startvalue: float = 0.0, offsetonreverse: float = 0.0, accelerationinitlong: float = 0.02,
                 accelerationlong: float = 0.02, accelerationmaxlong: float = 0.2, accelerationinitshort: float = 0.02,
                 accelerationshort: float = 0.02, accelerationmaxshort: float = 0.2) -> None:
        require_number("startvalue", startvalue)
        for name, setting in (("offsetonreverse", offsetonreverse), ("accelerationinitlong", accelerationinitlong),
                              ("accelerationlong", accelerationlong), ("accelerationmaxlong", accelerationmaxlong),
                              ("accelerationinitshort", accelerationinitshort), ("accelerationshort", accelerationshort),
                              ("accelerationmaxshort", accelerationmaxshort)):
            require_number(name, setting, minimum=0.0)
        self.startvalue = float(startvalue)
        self.offsetonreverse = float(offsetonreverse)
        self.accelerationinitlong = float(accelerationinitlong)
        self.accelerationlong = float(accelerationlong)
        self.accelerationmaxlong = float(accelerationmaxlong)
        self.accelerationinitshort = float(accelerationinitshort)
        self.accelerationshort = float(accelerationshort)
        self.accelerationmaxshort = float(accelerationmaxshort)
        # TA-Lib caps the initial factor and the step at the maximum.
        self._start_long = min(self.accelerationinitlong, self.accelerationmaxlong)
        self._step_long = min(self.accelerationlong, self.accelerationmaxlong)
        self._start_short = min(self.accelerationinitshort, self.accelerationmaxshort)
        self._step_short = min(self.accelerationshort, self.accelerationmaxshort)
        self._reset()

    def _reset(self) -> None:
        self._bar = 0
        self._long = True
        self._sar = math.nan
        self._extreme = math.nan
        self._factor_long = self._start_long
        self._factor_short = self._start_short
        self._high = math.nan
        self._low = math.nan
        self._value = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._bar >= 2

    @property
    def value(self) -> float:
        return self._value

    @property
    def values(self) -> tuple[float, ...]:
        return (self._value,)

    def update(self, high: float, low: float) -> None:
        bar = self._bar
        self._bar = bar + 1
        if bar == 0:
            self._high, self._low = high, low
            return
        if bar == 1:
            self._start(high, low)
        previous_high, previous_low = self._high, self._low
        self._high, self._low = high, low
        sar, extreme = self._sar, self._extreme
        if self._long:
            if low <= sar:  # reverse to short
                self._long = False
                sar = max(extreme, previous_high, high)
                if self.offsetonreverse != 0.0:
                    sar += sar * self.offsetonreverse
                self._value = -sar
                self._factor_short = self._start_short
                extreme = low
                sar = max(sar + self._factor_short * (extreme - sar), previous_high, high)
            else:
                self._value = sar
                if high > extreme:
                    extreme = high
                    self._factor_long = min(self._factor_long + self._step_long, self.accelerationmaxlong)
                sar = min(sar + self._factor_long * (extreme - sar), previous_low, low)
        elif high >= sar:  # reverse to long
            self._long = True
            sar = min(extreme, previous_low, low)
            if self.offsetonreverse != 0.0:
                sar -= sar * self.offsetonreverse
            self._value = sar
            self._factor_long = self._start_long
            extreme = high
            sar = min(sar + self._factor_long * (extreme - sar), previous_low, low)
        else:
            self._value = -sar
            if low < extreme:
                extreme = low
                self._factor_short = min(self._factor_short + self._step_short, self.accelerationmaxshort)
            sar = max(sar + self._factor_short * (extreme - sar), previous_high, high)
        self._sar, self._extreme = sar, extreme

    def _start(self, high: float, low: float) -> None:
        """Second bar: pick the first position and its stop, as TA-Lib does."""
        first_high, first_low = self._high, self._low
        if self.startvalue == 0.0:
            up_move = high - first_high
            down_move = first_low - low
            self._long = not (down_move > 0 and up_move < down_move)  # TA-Lib: a -DM starts short
            self._sar = first_low if self._long else first_high
        else:
            self._long = self.startvalue > 0
            self._sar = abs(self.startvalue)
        self._extreme = high if self._long else low
        self._high, self._low = high, low


class ParabolicSar(ParabolicSarExtended):
    """``talib.SAR``: Wilder's parabolic stop and reverse, one acceleration for both sides.

    >>> sar = ParabolicSar(acceleration=0.02, maximum=0.2)
    >>> for high, low in [(10.0, 9.0), (11.0, 10.0), (12.0, 11.0)]:
    ...     sar.update(high, low)
    >>> round(sar.value, 4)
    9.04
    """

    __slots__ = ("acceleration", "maximum")

    def __init__(self, acceleration: float = 0.02, maximum: float = 0.2) -> None:
        require_number("acceleration", acceleration, minimum=0.0)
        require_number("maximum", maximum, minimum=0.0)
        self.acceleration = float(acceleration)
        self.maximum = float(maximum)
        super().__init__(0.0, 0.0, acceleration, acceleration, maximum, acceleration, acceleration, maximum)

    def update(self, high: float, low: float) -> None:
        super().update(high, low)
        self._value = abs(self._value)


class SuperTrend:
    """``talib.SUPERTREND``: median price plus/minus ``multiplier`` Wilder ATRs, each band
    ratcheting toward price until a close crosses it; outputs the active band and the trend
    (+1 long, -1 short; 0 during the warm-up, as TA-Lib's integer output reads). The first
    band starts long.

    >>> trend = SuperTrend(timeperiod=2, multiplier=1.0)
    >>> for high, low, close in [(11.0, 9.0, 10.0), (12.0, 10.0, 11.0), (13.0, 11.0, 12.0)]:
    ...     trend.update(high, low, close)
    >>> trend.values
    (10.0, 1.0)
    """

    __slots__ = ("timeperiod", "multiplier", "_range", "_upper", "_lower", "_long", "_previous_close", "_values")
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")
    outputs: ClassVar[tuple[str, ...]] = ("supertrend", "trend")

    def __init__(self, timeperiod: int = 10, multiplier: float = 3.0) -> None:
        require_period("timeperiod", timeperiod, minimum=2)
        require_number("multiplier", multiplier, minimum=0.0)
        self.timeperiod = timeperiod
        self.multiplier = float(multiplier)
        self._reset()

    def _reset(self) -> None:
        self._range = AverageTrueRange(self.timeperiod)
        self._upper = math.nan
        self._lower = math.nan
        self._long = True
        self._previous_close = math.nan
        self._values = (math.nan, 0.0)

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._values[0] == self._values[0]

    @property
    def value(self) -> float:
        return self._values[0]

    @property
    def values(self) -> tuple[float, ...]:
        return self._values

    def update(self, high: float, low: float, close: float) -> None:
        average_range = self._range
        average_range.update(high, low, close)
        if not average_range.ready:
            return
        median = (high + low) / 2.0
        band = self.multiplier * average_range.value
        upper, lower = median + band, median - band
        if self._upper != self._upper:  # first band: unclamped, trend starts long
            self._upper, self._lower = upper, lower
        else:
            if upper < self._upper or self._previous_close > self._upper:
                self._upper = upper
            if lower > self._lower or self._previous_close < self._lower:
                self._lower = lower
            if self._long:
                if close < self._lower:
                    self._long = False
            elif close > self._upper:
                self._long = True
        self._previous_close = close
        self._values = (self._lower, 1.0) if self._long else (self._upper, -1.0)


TALIB_FUNCTIONS: dict[str, type] = {
    "BBANDS": BollingerBands,
    "ACCBANDS": AccelerationBands,
    "DONCHIAN": DonchianChannels,
    "KC": KeltnerChannels,
    "MIDPOINT": MidPoint,
    "MIDPRICE": MidPrice,
    "SAR": ParabolicSar,
    "SAREXT": ParabolicSarExtended,
    "SUPERTREND": SuperTrend,
}
