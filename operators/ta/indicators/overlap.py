"""TA-Lib's moving averages ("Overlap Studies"), fed one value at a time.

Each class follows the TA-Lib contract shared by every family module: keyword arguments named
as TA-Lib's parameters (same defaults), ``inputs`` / ``outputs`` naming TA-Lib's arrays,
``update(*inputs)`` in O(1), ``values`` (NaN where TA-Lib gives NaN), ``value``, ``ready`` and
``reset()``. Sums are updated in the order TA-Lib updates them (the WMA also recomputes its sums
every ``8 * timeperiod`` outputs, as TA-Lib 0.8 does), so values equal TA-Lib's batch functions
bit for bit or to within a few ulps. Every average with ``timeperiod=1`` returns its input, as
TA-Lib does.

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
from collections import deque
from typing import ClassVar, Protocol

from operators.ta.indicators.base import is_zero, require_period

MOVING_AVERAGE_TYPES = {0: "SMA", 1: "EMA", 2: "WMA", 3: "DEMA", 4: "TEMA", 5: "TRIMA", 6: "KAMA", 7: "MAMA", 8: "T3"}


def require_matype(matype: object) -> None:
    """Raise ``ValueError`` naming the bad value unless ``matype`` is one of TA-Lib's codes 0..8."""
    if isinstance(matype, bool) or not isinstance(matype, int) or matype not in MOVING_AVERAGE_TYPES:
        raise ValueError(f"matype must be an integer 0..8 (TA-Lib MA type), got {matype!r}")


class Average(Protocol):
    """What :func:`moving_average` returns: one value in, one average out."""

    def update(self, value: float) -> None: ...

    @property
    def value(self) -> float: ...

    @property
    def ready(self) -> bool: ...

    def reset(self) -> None: ...


class SingleAverage:
    """Shared plumbing of the one-output averages: ``value`` is NaN until ready."""

    __slots__ = ("_value",)
    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

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


class SimpleMovingAverage(SingleAverage):
    """``talib.SMA``: mean of the last ``timeperiod`` values.

    >>> average = SimpleMovingAverage(timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> average.value
    3.0
    """

    __slots__ = ("timeperiod", "_window", "_total")

    def __init__(self, timeperiod: int = 30) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
        self._window: deque[float] = deque(maxlen=self.timeperiod)
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


class ExponentialMovingAverage(SingleAverage):
    """``talib.EMA``: seeded with the mean of the first ``timeperiod`` values, then
    ``(x - ema) * 2 / (timeperiod + 1) + ema``. (The live feature step's
    :class:`operators.ta.indicators.ema.ExponentialMovingAverage` is the same average with a
    ``period`` argument.)

    >>> average = ExponentialMovingAverage(timeperiod=3)
    >>> for close in [1.0, 2.0, 3.0, 4.0]:
    ...     average.update(close)
    >>> average.value
    3.0
    """

    __slots__ = ("timeperiod", "_smoothing", "_count", "_seed_sum")

    def __init__(self, timeperiod: int = 30) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._smoothing = 2.0 / (timeperiod + 1)
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
        self._count = 0
        self._seed_sum = 0.0

    def update(self, close: float) -> None:
        if self._count >= self.timeperiod:
            if self.timeperiod == 1:
                self._value = close  # TA-Lib copies the input rather than run the recursion
            else:
                self._value = (close - self._value) * self._smoothing + self._value
            return
        self._seed_sum += close
        self._count += 1
        if self._count == self.timeperiod:
            self._value = self._seed_sum / self.timeperiod


class WilderMovingAverage(SingleAverage):
    """``talib.RMA`` (Wilder's smoothing): seeded with the mean of the first ``timeperiod``
    values, then ``(rma * (timeperiod - 1) + x) / timeperiod``.

    >>> average = WilderMovingAverage(timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> average.value
    2.75
    """

    __slots__ = ("timeperiod", "_count", "_seed_sum")

    def __init__(self, timeperiod: int = 30) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
        self._count = 0
        self._seed_sum = 0.0

    def update(self, close: float) -> None:
        period = self.timeperiod
        if period == 1:
            self._value = close
        elif self._count >= period:
            self._value = (self._value * (period - 1) + close) / period
        else:
            self._seed_sum += close
            self._count += 1
            if self._count == period:
                self._value = self._seed_sum / period


class WeightedMovingAverage(SingleAverage):
    """``talib.WMA``: weights 1..timeperiod, newest heaviest, kept as two rolling sums.

    Like TA-Lib 0.8, both sums are recomputed from the window every ``8 * timeperiod`` outputs
    (O(1) amortised), which bounds their rounding drift and keeps values bit-identical.

    >>> average = WeightedMovingAverage(timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    3.333333
    """

    __slots__ = ("timeperiod", "_divider", "_window", "_plain_sum", "_weighted_sum", "_trailing", "_until_resync")

    RESYNC_PERIODS: ClassVar[int] = 8

    def __init__(self, timeperiod: int = 30) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._divider = float(timeperiod * (timeperiod + 1) // 2)
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
        self._window: deque[float] = deque(maxlen=self.timeperiod)
        self._plain_sum = 0.0
        self._weighted_sum = 0.0
        self._trailing = 0.0
        self._until_resync = self.RESYNC_PERIODS * self.timeperiod

    def update(self, close: float) -> None:
        period = self.timeperiod
        if period == 1:
            self._value = close
            return
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


class DoubleExponentialMovingAverage(SingleAverage):
    """``talib.DEMA``: ``2 * EMA(x) - EMA(EMA(x))``; first value after ``2 * (timeperiod - 1)`` bars.

    >>> average = DoubleExponentialMovingAverage(timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> average.value
    4.0
    """

    __slots__ = ("timeperiod", "_first", "_second")

    def __init__(self, timeperiod: int = 30) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
        self._first = ExponentialMovingAverage(self.timeperiod)
        self._second = ExponentialMovingAverage(self.timeperiod)

    def update(self, close: float) -> None:
        if self.timeperiod == 1:
            self._value = close
            return
        first = self._first
        first.update(close)
        if first._value == first._value:
            second = self._second
            second.update(first._value)
            if second._value == second._value:
                self._value = 2.0 * first._value - second._value


class TripleExponentialMovingAverage(SingleAverage):
    """``talib.TEMA``: ``3 * EMA - 3 * EMA(EMA) + EMA(EMA(EMA))``.

    >>> average = TripleExponentialMovingAverage(timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0, 3.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    3.296296
    """

    __slots__ = ("timeperiod", "_first", "_second", "_third")

    def __init__(self, timeperiod: int = 30) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
        self._first = ExponentialMovingAverage(self.timeperiod)
        self._second = ExponentialMovingAverage(self.timeperiod)
        self._third = ExponentialMovingAverage(self.timeperiod)

    def update(self, close: float) -> None:
        if self.timeperiod == 1:
            self._value = close
            return
        first = self._first
        first.update(close)
        if first._value != first._value:
            return
        second = self._second
        second.update(first._value)
        if second._value != second._value:
            return
        third = self._third
        third.update(second._value)
        if third._value == third._value:
            self._value = third._value + (3.0 * first._value - 3.0 * second._value)


class TriangularMovingAverage(SingleAverage):
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

    __slots__ = ("timeperiod", "_factor", "_window", "_numerator", "_older_sum", "_newer_sum")

    def __init__(self, timeperiod: int = 30) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        half = timeperiod // 2
        self._factor = 1.0 / ((half + 1) * (half + 1) if timeperiod % 2 else half * (half + 1))
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
        self._window: deque[float] = deque(maxlen=self.timeperiod + 1)
        self._numerator = 0.0
        self._older_sum = 0.0
        self._newer_sum = 0.0

    def update(self, close: float) -> None:
        period = self.timeperiod
        if period == 1:
            self._value = close
            return
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


class KaufmanAdaptiveMovingAverage(SingleAverage):
    """``talib.KAMA``: an EMA whose smoothing follows the efficiency ratio
    ``|x - x[-n]| / sum |x - x[-1]|`` between the 2- and 30-bar EMA constants.

    The path length ``sum |x - x[-1]|`` is a running sum updated in TA-Lib's order. Like TA-Lib
    0.8, it is set to exactly 0 once the last ``timeperiod`` changes are all zero (a flat
    window, where the running sum would keep a rounding residue that flips the ratio), and the
    ratio is capped at 1 (a residue can leave the sum a hair below ``|x - x[-n]|``).

    >>> average = KaufmanAdaptiveMovingAverage(timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    2.888889
    """

    __slots__ = ("timeperiod", "_window", "_path_sum", "_trailing", "_flat_changes")

    FASTEST: ClassVar[float] = 2.0 / (2 + 1)
    SLOWEST: ClassVar[float] = 2.0 / (30 + 1)

    def __init__(self, timeperiod: int = 30) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
        self._window: deque[float] = deque(maxlen=self.timeperiod + 1)
        self._path_sum = 0.0
        self._trailing = math.nan
        self._flat_changes = 0  # consecutive zero changes ending at the newest value

    def update(self, close: float) -> None:
        period = self.timeperiod
        if period == 1:
            self._value = close
            return
        window = self._window
        previous = window[-1] if window else math.nan
        window.append(close)
        self._flat_changes = self._flat_changes + 1 if close == previous else 0
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
        ratio = 1.0 if (path <= abs(change) or is_zero(path)) else abs(change / path)
        smoothing = ratio * (self.FASTEST - self.SLOWEST) + self.SLOWEST
        smoothing *= smoothing
        self._value = (close - average) * smoothing + average


class TillsonT3MovingAverage(SingleAverage):
    """``talib.T3``: six chained EMAs (``k * x + (1 - k) * ema``, each seeded with the mean of
    its first ``timeperiod`` inputs) mixed by Tillson's volume-factor weights.

    >>> average = TillsonT3MovingAverage(timeperiod=2, vfactor=0.7)
    >>> for close in [1.0, 2.0, 4.0, 3.0, 5.0, 7.0, 6.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    6.276569
    """

    __slots__ = ("timeperiod", "vfactor", "_smoothing", "_weights", "_stages", "_counts", "_seed_sums")

    STAGES: ClassVar[int] = 6

    def __init__(self, timeperiod: int = 5, vfactor: float = 0.7) -> None:
        require_period("timeperiod", timeperiod)
        if isinstance(vfactor, bool) or not isinstance(vfactor, (int, float)) or not 0.0 <= vfactor <= 1.0:
            raise ValueError(f"vfactor must be a number in [0, 1], got {vfactor!r}")
        self.timeperiod = timeperiod
        self.vfactor = float(vfactor)
        self._smoothing = 2.0 / (timeperiod + 1)
        squared = self.vfactor * self.vfactor
        cubed = -squared * self.vfactor
        self._weights = (
            cubed,
            3.0 * (squared - cubed),
            -6.0 * squared - 3.0 * (self.vfactor - cubed),
            1.0 + 3.0 * self.vfactor - cubed + 3.0 * squared,
        )
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
        self._stages = [math.nan] * self.STAGES
        self._counts = [0] * self.STAGES
        self._seed_sums = [0.0] * self.STAGES

    def update(self, close: float) -> None:
        period = self.timeperiod
        if period == 1:
            self._value = close
            return
        stages = self._stages
        counts = self._counts
        smoothing = self._smoothing
        keep = 1.0 - smoothing
        value = close
        for stage in range(self.STAGES):
            if counts[stage] < period:
                self._seed_sums[stage] += value
                counts[stage] += 1
                if counts[stage] < period:
                    return
                value = self._seed_sums[stage] / period
            else:
                value = smoothing * value + keep * stages[stage]
            stages[stage] = value
        first, second, third, fourth = self._weights
        self._value = first * stages[5] + second * stages[4] + third * stages[3] + fourth * stages[2]


class ZeroLagExponentialMovingAverage(SingleAverage):
    """``talib.ZLEMA``: an EMA (TA-Lib seeding) of the de-lagged series
    ``2 * x - x[-lag]``, ``lag = (timeperiod - 1) // 2``.

    >>> average = ZeroLagExponentialMovingAverage(timeperiod=3)
    >>> for close in [1.0, 2.0, 4.0, 3.0, 5.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    5.333333
    """

    __slots__ = ("timeperiod", "_window", "_average")

    def __init__(self, timeperiod: int = 30) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
        self._window: deque[float] = deque(maxlen=(self.timeperiod - 1) // 2 + 1)
        self._average = ExponentialMovingAverage(self.timeperiod)

    def update(self, close: float) -> None:
        if self.timeperiod == 1:
            self._value = close
            return
        window = self._window
        window.append(close)
        if len(window) == window.maxlen:
            average = self._average
            average.update(2.0 * close - window[0])
            self._value = average._value


class HullMovingAverage(SingleAverage):
    """``talib.HMA``: ``WMA(2 * WMA(x, n // 2) - WMA(x, n), int(sqrt(n)))``.

    The half-period WMA starts where TA-Lib starts it (``n - n // 2`` bars in), so its rolling
    sums round exactly as TA-Lib's do.

    >>> average = HullMovingAverage(timeperiod=4)
    >>> for close in [1.0, 2.0, 4.0, 3.0, 5.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    4.433333
    """

    __slots__ = ("timeperiod", "_seen", "_full", "_half", "_outer")

    def __init__(self, timeperiod: int = 20) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
        self._seen = 0
        self._full = WeightedMovingAverage(self.timeperiod)
        self._half = WeightedMovingAverage(max(self.timeperiod // 2, 1))
        self._outer = WeightedMovingAverage(math.isqrt(self.timeperiod))

    def update(self, close: float) -> None:
        period = self.timeperiod
        if period == 1:
            self._value = close
            return
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


class VolumeWeightedMovingAverage(SingleAverage):
    """``talib.VWMA``: ``SMA(close * volume) / SMA(volume)`` over ``timeperiod`` bars.

    >>> average = VolumeWeightedMovingAverage(timeperiod=2)
    >>> for close, volume in [(1.0, 10.0), (2.0, 30.0), (4.0, 10.0)]:
    ...     average.update(close, volume)
    >>> average.value
    2.5
    """

    __slots__ = ("timeperiod", "_window", "_price_volume", "_volume")
    inputs: ClassVar[tuple[str, ...]] = ("close", "volume")

    def __init__(self, timeperiod: int = 30) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
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


class Passthrough(SingleAverage):
    """What TA-Lib's MA gives for ``timeperiod=1``, any matype: the input itself.

    >>> average = Passthrough()
    >>> average.update(2.5)
    >>> average.value
    2.5
    """

    __slots__ = ()

    def __init__(self) -> None:
        self._reset()

    def update(self, close: float) -> None:
        self._value = close


def moving_average(matype: int, timeperiod: int) -> Average:
    """A fresh incremental average for TA-Lib's ``MA(timeperiod, matype)``.

    ``matype`` 7 (MAMA) ignores ``timeperiod`` (except 1) and uses MAMA's first output with
    TA-Lib's limits 0.5 / 0.05; ``matype`` 8 (T3) uses TA-Lib's vfactor 0.7.

    >>> average = moving_average(matype=1, timeperiod=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    3.166667
    """
    require_matype(matype)
    require_period("timeperiod", timeperiod)
    if timeperiod == 1:
        return Passthrough()
    if matype == 7:
        from operators.ta.indicators.cycle import MesaAdaptiveMovingAverage

        return MesaAdaptiveMovingAverage(fastlimit=0.5, slowlimit=0.05)
    average: Average = AVERAGE_CLASSES[matype](timeperiod)
    return average


def moving_average_lookback(matype: int, timeperiod: int) -> int:
    """Bars TA-Lib's ``MA(timeperiod, matype)`` needs before its first value (its ``lookback``).

    >>> moving_average_lookback(matype=3, timeperiod=30)
    58
    """
    if timeperiod == 1:
        return 0
    span = timeperiod - 1
    return {0: span, 1: span, 2: span, 3: 2 * span, 4: 3 * span, 5: span, 6: timeperiod, 7: 32, 8: 6 * span}[matype]


AVERAGE_CLASSES: dict[int, type] = {
    0: SimpleMovingAverage,
    1: ExponentialMovingAverage,
    2: WeightedMovingAverage,
    3: DoubleExponentialMovingAverage,
    4: TripleExponentialMovingAverage,
    5: TriangularMovingAverage,
    6: KaufmanAdaptiveMovingAverage,
    8: TillsonT3MovingAverage,
}


class MovingAverage(SingleAverage):
    """``talib.MA``: the average selected by ``matype`` (see :func:`moving_average`).

    >>> average = MovingAverage(timeperiod=2, matype=2)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     average.update(close)
    >>> round(average.value, 6)
    3.333333
    """

    __slots__ = ("timeperiod", "matype", "_average")

    def __init__(self, timeperiod: int = 30, matype: int = 0) -> None:
        require_period("timeperiod", timeperiod)
        require_matype(matype)
        self.timeperiod = timeperiod
        self.matype = matype
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
        self._average = moving_average(self.matype, self.timeperiod)

    def update(self, close: float) -> None:
        average = self._average
        average.update(close)
        self._value = average.value


class VariablePeriodMovingAverage(SingleAverage):
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
    inputs: ClassVar[tuple[str, ...]] = ("close", "periods")

    def __init__(self, minperiod: int = 2, maxperiod: int = 30, matype: int = 0) -> None:
        require_period("minperiod", minperiod, minimum=2)
        require_period("maxperiod", maxperiod, minimum=2)
        if maxperiod < minperiod:
            raise ValueError(f"maxperiod must be >= minperiod ({minperiod}), got {maxperiod!r}")
        require_matype(matype)
        self.minperiod = minperiod
        self.maxperiod = maxperiod
        self.matype = matype
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan
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


TALIB_FUNCTIONS: dict[str, type] = {
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
