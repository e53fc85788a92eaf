"""TA-Lib's trailing stops ("Overlap Studies"): SAR, SAREXT and SUPERTREND, one bar at a time.

Each follows the indicator contract of :mod:`operators.ta.base` and equals TA-Lib's batch
function bit for bit. ``SUPERTREND``'s second output (``trend``: +1 long, -1 short) is an
integer array in TA-Lib, which reads 0, not NaN, during the warm-up; ours does the same.

>>> sar = ParabolicSar()
>>> for high, low in [(10.0, 9.0), (11.0, 10.0), (12.0, 11.0)]:
...     sar.update(high, low)
>>> round(sar.value, 4)
9.04
"""

from __future__ import annotations

from operators.ta.base import NAN, Indicator, MultiOutputIndicator, Number, Period
from operators.ta.indicators.volatility import WilderAverageTrueRange
from operators.ta.indicators.overlap import LARGEST_REAL


def _acceleration(name: str, default: float) -> Number:
    return Number(name, default, 0.0, LARGEST_REAL)


class ParabolicStop(Indicator):
    """Wilder's parabolic stop and reverse, as SAR and SAREXT share it; a subclass declares its
    parameters and reads them out as :meth:`_settings`. Short positions are reported negative.
    """

    __slots__ = (
        "_startvalue", "_offset", "_start_long", "_step_long", "_max_long", "_start_short", "_step_short",
        "_max_short", "_bar", "_long", "_sar", "_extreme", "_factor_long", "_factor_short", "_high", "_low",
    )
    inputs = ("high", "low")

    def _settings(self) -> tuple[float, float, float, float, float, float, float, float]:
        """Start value, offset on reverse, then initial, step and maximum acceleration, long then short."""
        raise NotImplementedError

    def _reset(self) -> None:
        super()._reset()
        (self._startvalue, self._offset, start_long, step_long, self._max_long,
         start_short, step_short, self._max_short) = self._settings()
        # TA-Lib caps the initial factor and the step at the maximum.
        self._start_long = min(start_long, self._max_long)
        self._step_long = min(step_long, self._max_long)
        self._start_short = min(start_short, self._max_short)
        self._step_short = min(step_short, self._max_short)
        self._bar = 0
        self._long = True
        self._sar = NAN
        self._extreme = NAN
        self._factor_long = self._start_long
        self._factor_short = self._start_short
        self._high = NAN
        self._low = NAN

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
                if self._offset != 0.0:
                    sar += sar * self._offset
                self._value = -sar
                self._factor_short = self._start_short
                extreme = low
                sar = max(sar + self._factor_short * (extreme - sar), previous_high, high)
            else:
                self._value = sar
                if high > extreme:
                    extreme = high
                    self._factor_long = min(self._factor_long + self._step_long, self._max_long)
                sar = min(sar + self._factor_long * (extreme - sar), previous_low, low)
        elif high >= sar:  # reverse to long
            self._long = True
            sar = min(extreme, previous_low, low)
            if self._offset != 0.0:
                sar -= sar * self._offset
            self._value = sar
            self._factor_long = self._start_long
            extreme = high
            sar = min(sar + self._factor_long * (extreme - sar), previous_low, low)
        else:
            self._value = -sar
            if low < extreme:
                extreme = low
                self._factor_short = min(self._factor_short + self._step_short, self._max_short)
            sar = max(sar + self._factor_short * (extreme - sar), previous_high, high)
        self._sar, self._extreme = sar, extreme

    def _start(self, high: float, low: float) -> None:
        """Second bar: pick the first position and its stop, as TA-Lib does."""
        first_high, first_low = self._high, self._low
        if self._startvalue == 0.0:
            up_move = high - first_high
            down_move = first_low - low
            self._long = not (down_move > 0 and up_move < down_move)  # TA-Lib: a -DM starts short
            self._sar = first_low if self._long else first_high
        else:
            self._long = self._startvalue > 0
            self._sar = abs(self._startvalue)
        self._extreme = high if self._long else low
        self._high, self._low = high, low


class ParabolicSarExtended(ParabolicStop):
    """``talib.SAREXT``: the parabolic stop with separate long/short acceleration, an optional
    start value (> 0 starts long at it, < 0 starts short at its magnitude, 0 lets the first two
    bars decide) and an offset on reversal. Short positions are reported negative.

    >>> sar = ParabolicSarExtended()
    >>> for high, low in [(10.0, 9.0), (11.0, 10.0), (12.0, 11.0)]:
    ...     sar.update(high, low)
    >>> round(sar.value, 4)
    9.04
    """

    __slots__ = (
        "startvalue", "offsetonreverse", "accelerationinitlong", "accelerationlong", "accelerationmaxlong",
        "accelerationinitshort", "accelerationshort", "accelerationmaxshort",
    )
    parameters = (
        Number("startvalue", 0.0, -LARGEST_REAL, LARGEST_REAL),
        _acceleration("offsetonreverse", 0.0),
        _acceleration("accelerationinitlong", 0.02),
        _acceleration("accelerationlong", 0.02),
        _acceleration("accelerationmaxlong", 0.2),
        _acceleration("accelerationinitshort", 0.02),
        _acceleration("accelerationshort", 0.02),
        _acceleration("accelerationmaxshort", 0.2),
    )

    def _settings(self) -> tuple[float, float, float, float, float, float, float, float]:
        return (self.startvalue, self.offsetonreverse, self.accelerationinitlong, self.accelerationlong,
                self.accelerationmaxlong, self.accelerationinitshort, self.accelerationshort,
                self.accelerationmaxshort)


class ParabolicSar(ParabolicStop):
    """``talib.SAR``: Wilder's parabolic stop and reverse, one acceleration for both sides.

    >>> sar = ParabolicSar(acceleration=0.02, maximum=0.2)
    >>> for high, low in [(10.0, 9.0), (11.0, 10.0), (12.0, 11.0)]:
    ...     sar.update(high, low)
    >>> round(sar.value, 4)
    9.04
    """

    __slots__ = ("acceleration", "maximum")
    parameters = (_acceleration("acceleration", 0.02), _acceleration("maximum", 0.2))

    def _settings(self) -> tuple[float, float, float, float, float, float, float, float]:
        acceleration, maximum = self.acceleration, self.maximum
        return (0.0, 0.0, acceleration, acceleration, maximum, acceleration, acceleration, maximum)

    def update(self, high: float, low: float) -> None:
        super().update(high, low)
        self._value = abs(self._value)


class SuperTrend(MultiOutputIndicator):
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

    __slots__ = ("timeperiod", "multiplier", "_range", "_upper", "_lower", "_long", "_previous_close")
    inputs = ("high", "low", "close")
    outputs = ("supertrend", "trend")
    parameters = (Period("timeperiod", 10, minimum=2), Number("multiplier", 3.0, 0.0, LARGEST_REAL))

    def _reset(self) -> None:
        super()._reset()
        self._range = WilderAverageTrueRange(timeperiod=self.timeperiod)
        self._upper = NAN
        self._lower = NAN
        self._long = True
        self._previous_close = NAN
        self._values = (NAN, 0.0)

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


TALIB_FUNCTIONS: dict[str, type[Indicator]] = {
    "SAR": ParabolicSar,
    "SAREXT": ParabolicSarExtended,
    "SUPERTREND": SuperTrend,
}
