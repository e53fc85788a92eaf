"""TA-Lib's moving averages ("Overlap Studies"), fed one value at a time.

Every average follows the indicator contract of :mod:`operators.ta.base` (TA-Lib's parameter
names and defaults, ``update(*inputs)`` in O(1), ``value`` / ``values`` NaN until ``ready``,
``reset()``) and equals TA-Lib's batch function bit for bit. The fixed-window averages live in
:mod:`~operators.ta.indicators.window_averages`, the exponential ones in
:mod:`~operators.ta.indicators.exponential_averages`; this module adds KAMA, MA and MAVP and
lists them all by TA-Lib name.

:func:`moving_average` builds the average behind TA-Lib's ``matype`` codes (0 SMA, 1 EMA, 2 WMA,
3 DEMA, 4 TEMA, 5 TRIMA, 6 KAMA, 7 MAMA, 8 T3), which other indicators (BBANDS, MACDEXT, STOCH,
APO, PPO, MAVP...) smooth with.

>>> average = moving_average(matype=0, timeperiod=3)
>>> for close in [1.0, 2.0, 3.0, 4.0]:
...     average.update(close)
>>> average.value
3.0
"""

from __future__ import annotations

import math
from typing import ClassVar

from operators.ta.base import MOVING_AVERAGE_TYPES, NAN, Average, Indicator, MovingAverageType, Period
from operators.ta.indicators.exponential_averages import (
    DoubleExponentialMovingAverage,
    ExponentialMovingAverage,
    TillsonT3MovingAverage,
    TripleExponentialMovingAverage,
    WilderMovingAverage,
    ZeroLagExponentialMovingAverage,
)
from operators.ta.indicators.window_averages import (
    HullMovingAverage,
    SimpleMovingAverage,
    TriangularMovingAverage,
    VolumeWeightedMovingAverage,
    WeightedMovingAverage,
)
from operators.ta.ring import FloatRing

__all__ = [
    "AVERAGE_CLASSES",
    "LARGEST_REAL",
    "MOVING_AVERAGE_TYPES",
    "TALIB_FUNCTIONS",
    "DoubleExponentialMovingAverage",
    "ExponentialMovingAverage",
    "HullMovingAverage",
    "KaufmanAdaptiveMovingAverage",
    "MovingAverage",
    "Passthrough",
    "SimpleMovingAverage",
    "TillsonT3MovingAverage",
    "TriangularMovingAverage",
    "TripleExponentialMovingAverage",
    "VariablePeriodMovingAverage",
    "VolumeWeightedMovingAverage",
    "WeightedMovingAverage",
    "WilderMovingAverage",
    "ZeroLagExponentialMovingAverage",
    "moving_average",
    "moving_average_lookback",
]

#: TA-Lib's bound on a real-valued parameter (``TA_REAL_MAX``).
LARGEST_REAL = 3e37


def _fused_multiply_add(a: float, b: float, c: float) -> float:
    """``a * b + c`` rounded once, like C's ``fma`` (Python 3.11 has no ``math.fma``).

    TA-Lib 0.8 computes KAMA's smoothing constant and its update with ``fma``; two roundings
    (``a * b`` then ``+ c``) leave the last bit different on about one bar in three. Finite
    floats are exact binary fractions, so the sum is formed exactly in integers and divided once
    (CPython's ``int / int`` is correctly rounded).

    >>> _fused_multiply_add(0.1, 10.0, -1.0)  # 0.1 * 10 rounds to exactly 1.0 unfused
    5.551115123125783e-17
    """
    if a == 0.0 or b == 0.0 or c == 0.0:
        return a * b + c  # an exact product, or a single rounding
    try:
        a_numerator, a_denominator = a.as_integer_ratio()
        b_numerator, b_denominator = b.as_integer_ratio()
        c_numerator, c_denominator = c.as_integer_ratio()
    except (OverflowError, ValueError):  # an infinity or NaN: fma gives what the plain expression gives
        return a * b + c
    numerator = a_numerator * b_numerator
    denominator = a_denominator * b_denominator  # powers of two: one divides the other
    if denominator >= c_denominator:
        numerator += c_numerator * (denominator // c_denominator)
    else:
        numerator = numerator * (c_denominator // denominator) + c_numerator
        denominator = c_denominator
    try:
        return numerator / denominator
    except OverflowError:  # the exact sum rounds past the largest float
        return math.inf if numerator > 0 else -math.inf


class KaufmanAdaptiveMovingAverage(Average):
    """``talib.KAMA``: an EMA whose smoothing follows the efficiency ratio
    ``|x - x[-n]| / sum |x - x[-1]|`` between the 2- and 30-bar EMA constants.

    Computed as TA-Lib 0.8 does, operation for operation, so the outputs are bit-identical:

    * the path length ``sum |x - x[-1]|`` is a running sum (``- |trailing change|`` then
      ``+ |newest change|``), set to exactly 0 once the last ``timeperiod`` changes are all zero
      (a flat window, where the running sum would keep a rounding residue);
    * the ratio is 1 when the path is not positive or the signed change ``x - x[-n]`` reaches it,
      else ``|change / path|`` capped at 1. A positive path is never read as flat however small
      (STOCHRSI's %K gives paths of 3.6e-15), and a residue at or below 0 never divides;
    * the smoothing constant ``ratio * (fast - slow) + slow`` and the update
      ``(x - kama) * constant**2 + kama`` are fused multiply-adds (one rounding each).

    >>> average = KaufmanAdaptiveMovingAverage(timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    2.888889
    """

    __slots__ = ("_window", "_path_sum", "_trailing", "_flat_changes")

    FASTEST: ClassVar[float] = 2.0 / (2 + 1)
    SLOWEST: ClassVar[float] = 2.0 / (30 + 1)
    SPREAD: ClassVar[float] = FASTEST - SLOWEST
    #: The squared smoothing constant at ratio 1 (TA-Lib's flat-window shortcut uses this value).
    FASTEST_SQUARED: ClassVar[float] = (SPREAD + SLOWEST) * (SPREAD + SLOWEST)

    def _reset(self) -> None:
        super()._reset()
        self._window = FloatRing(self.timeperiod + 1)
        self._path_sum = 0.0
        self._trailing = NAN
        self._flat_changes = 0  # consecutive zero changes ending at the newest value

    def _advance(self, close: float) -> None:
        period = self.timeperiod
        window = self._window
        previous = window[-1] if window else NAN
        window.append(close)
        self._flat_changes = self._flat_changes + 1 if close - previous == 0.0 else 0
        if len(window) <= period:
            if len(window) > 1:
                self._path_sum += abs(previous - close)
            return
        oldest = window[0]
        if self._value != self._value:  # first output: seed from the previous close
            self._path_sum += abs(previous - close)
            average = previous
        else:
            self._path_sum -= abs(self._trailing - oldest)
            self._path_sum += abs(close - previous)
            average = self._value
        if self._flat_changes >= period:
            self._path_sum = 0.0
        self._trailing = oldest
        change = close - oldest
        path = self._path_sum
        if path <= 0.0 or change >= path:
            squared = self.FASTEST_SQUARED
        else:
            ratio = abs(change / path)
            if ratio > 1.0:  # a residue can leave the path a hair below |change|; NaN passes through
                ratio = 1.0
            smoothing = _fused_multiply_add(ratio, self.SPREAD, self.SLOWEST)
            squared = smoothing * smoothing
        self._value = _fused_multiply_add(close - average, squared, average)


class Passthrough(Indicator):
    """What TA-Lib's MA gives for ``timeperiod=1``, any matype: the input itself.

    >>> average = Passthrough()
    >>> average.update(2.5)
    >>> average.value
    2.5
    """

    __slots__ = ()

    def update(self, close: float) -> None:
        self._value = close


AVERAGE_CLASSES: dict[int, type[Indicator]] = {
    0: SimpleMovingAverage,
    1: ExponentialMovingAverage,
    2: WeightedMovingAverage,
    3: DoubleExponentialMovingAverage,
    4: TripleExponentialMovingAverage,
    5: TriangularMovingAverage,
    6: KaufmanAdaptiveMovingAverage,
    8: TillsonT3MovingAverage,
}


def moving_average(matype: int, timeperiod: int) -> Indicator:
    """A fresh incremental average for TA-Lib's ``MA(timeperiod, matype)``.

    ``matype`` 7 (MAMA) ignores ``timeperiod`` (except 1) and uses MAMA's first output with
    TA-Lib's limits 0.5 / 0.05; ``matype`` 8 (T3) uses TA-Lib's vfactor 0.7.

    >>> average = moving_average(matype=1, timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    3.166667
    """
    timeperiod_rule, matype_rule = MovingAverage.parameters
    matype_rule.check("moving_average", matype)
    timeperiod_rule.check("moving_average", timeperiod)
    if timeperiod == 1:
        return Passthrough()
    if matype == 7:
        from operators.ta.indicators.cycle import MesaAdaptiveMovingAverage

        return MesaAdaptiveMovingAverage(fastlimit=0.5, slowlimit=0.05)  # type: ignore[no-any-return]
    return AVERAGE_CLASSES[matype](timeperiod=timeperiod)


def moving_average_lookback(matype: int, timeperiod: int) -> int:
    """Bars TA-Lib's ``MA(timeperiod, matype)`` needs before its first value (its ``lookback``).

    >>> moving_average_lookback(matype=3, timeperiod=30)
    58
    """
    if timeperiod == 1:
        return 0
    span = timeperiod - 1
    return {0: span, 1: span, 2: span, 3: 2 * span, 4: 3 * span, 5: span, 6: timeperiod, 7: 32, 8: 6 * span}[matype]


class MovingAverage(Indicator):
    """``talib.MA``: the average selected by ``matype`` (see :func:`moving_average`).

    >>> average = MovingAverage(timeperiod=2, matype=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    3.333333
    """

    __slots__ = ("timeperiod", "matype", "_average")
    parameters = (Period("timeperiod", 30), MovingAverageType("matype", 0))

    def _reset(self) -> None:
        super()._reset()
        self._average = moving_average(self.matype, self.timeperiod)

    def update(self, close: float) -> None:
        average = self._average
        average.update(close)
        self._value = average.value


class VariablePeriodMovingAverage(Indicator):
    """``talib.MAVP``: at each bar, the ``matype`` average whose period is that bar's
    ``periods`` value (truncated to an integer, clamped to ``[minperiod, maxperiod]``).

    One average per period in the range runs side by side, each entered at the bar TA-Lib
    enters it (its own lookback before MAVP's first output), so an update costs
    ``maxperiod - minperiod + 1`` average updates: constant in the stream, not in the settings.

    >>> average = VariablePeriodMovingAverage(minperiod=2, maxperiod=3, matype=0)
    >>> for close, period in [(1.0, 2.0), (2.0, 2.0), (4.0, 2.0), (6.0, 3.0)]:
    ...     average.update(close, period)
    >>> average.value
    4.0
    """

    __slots__ = ("minperiod", "maxperiod", "matype", "_averages", "_entry_bars", "_bar", "_first_output_bar")
    inputs = ("close", "periods")
    parameters = (Period("minperiod", 2, minimum=2), Period("maxperiod", 30, minimum=2), MovingAverageType("matype", 0))

    def _check(self) -> None:
        if self.maxperiod < self.minperiod:
            raise ValueError(f"{type(self).__name__} maxperiod must be >= minperiod ({self.minperiod}), "
                             f"got {self.maxperiod!r}")

    def _reset(self) -> None:
        super()._reset()
        self._bar = 0
        self._first_output_bar = moving_average_lookback(self.matype, self.maxperiod)
        periods = range(self.minperiod, self.maxperiod + 1)
        self._averages = [moving_average(self.matype, period) for period in periods]
        self._entry_bars = [self._first_output_bar - moving_average_lookback(self.matype, period) for period in periods]

    def update(self, close: float, periods: float) -> None:
        bar = self._bar
        self._bar = bar + 1
        for average, entry_bar in zip(self._averages, self._entry_bars):
            if bar >= entry_bar:
                average.update(close)
        if bar < self._first_output_bar:
            return
        period = int(periods) if periods == periods and abs(periods) < 2**31 else self.minperiod
        period = min(max(period, self.minperiod), self.maxperiod)
        self._value = self._averages[period - self.minperiod].value


TALIB_FUNCTIONS: dict[str, type[Indicator]] = {
    "SMA": SimpleMovingAverage,
    "EMA": ExponentialMovingAverage,
    "WMA": WeightedMovingAverage,
    "DEMA": DoubleExponentialMovingAverage,
    "TEMA": TripleExponentialMovingAverage,
    "TRIMA": TriangularMovingAverage,
    "KAMA": KaufmanAdaptiveMovingAverage,
    "T3": TillsonT3MovingAverage,
    "RMA": WilderMovingAverage,
    "ZLEMA": ZeroLagExponentialMovingAverage,
    "HMA": HullMovingAverage,
    "VWMA": VolumeWeightedMovingAverage,
    "MA": MovingAverage,
    "MAVP": VariablePeriodMovingAverage,
}
