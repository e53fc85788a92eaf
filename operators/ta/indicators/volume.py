"""TA-Lib's volume indicators, one bar at a time: AD, ADOSC, CMF, EFI, MARKETFI, NVI, OBV, PVI,
PVO, PVT, RVOL, VWAP.

Every class follows the TA-Lib contract shared by the indicator families: keyword arguments
named as TA-Lib's parameters (same defaults), ``inputs``/``outputs`` named as TA-Lib's,
``update(*inputs)`` in O(1), ``values`` (NaN exactly where TA-Lib gives NaN), ``value``,
``ready`` and ``reset()``. The cumulative indicators (AD, OBV, NVI, PVI, PVT, VWAP) start at the
first bar fed, as TA-Lib's start at the first bar of the array; running window sums are
updated in TA-Lib's order so they carry the same rounding.

>>> line = AccumulationDistributionLine()
>>> for high, low, close, volume in [(10.0, 8.0, 9.5, 100.0), (11.0, 9.0, 9.5, 50.0)]:
...     line.update(high, low, close, volume)
>>> line.value
25.0
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections import deque
from collections.abc import Callable
from fractions import Fraction
from typing import ClassVar

from operators.ta.indicators.base import require_period
from operators.ta.indicators.ema import ExponentialMovingAverage
from operators.ta.indicators.overlap import moving_average, require_matype

MAXIMUM_PERIOD = 100_000


def _require_period(name: str, period: object, minimum: int) -> None:
    """TA-Lib's range for an integer period: ``minimum`` .. 100000."""
    require_period(name, period, minimum)
    if period > MAXIMUM_PERIOD:  # type: ignore[operator]
        raise ValueError(f"{name} must be at most {MAXIMUM_PERIOD}, got {period!r}")


def _divide(numerator: float, denominator: float) -> float:
    """IEEE division as C does it: ``x / 0`` is a signed infinity and ``0 / 0`` is NaN."""
    if denominator != 0.0:
        return numerator / denominator
    if numerator != numerator or numerator == 0.0:
        return math.nan
    return math.copysign(math.inf, numerator) * math.copysign(1.0, denominator)


def _exact_fused_multiply_add(factor: float, multiplier: float, addend: float) -> float:
    """``factor * multiplier + addend`` rounded once (exact rational arithmetic; slow fallback)."""
    return float(Fraction(factor) * Fraction(multiplier) + Fraction(addend))


def _fused_multiply_add_function() -> Callable[[float, float, float], float]:
    """C's ``fma``: ``math.fma`` (Python 3.13+), else the C library's, else exact rationals."""
    if hasattr(math, "fma"):
        return math.fma  # type: ignore[no-any-return]
    library = ctypes.util.find_library("m")
    if library is not None:
        try:
            fused = ctypes.CDLL(library).fma
        except (OSError, AttributeError):
            return _exact_fused_multiply_add
        fused.restype = ctypes.c_double
        fused.argtypes = (ctypes.c_double, ctypes.c_double, ctypes.c_double)
        return fused  # type: ignore[no-any-return]
    return _exact_fused_multiply_add


# ADOSC differences two EMAs of the AD line, which runs into the billions: one rounding more or
# less in an EMA step moves the oscillator by 1e-7, so its steps are fused exactly as TA-Lib's.
_fused_multiply_add = _fused_multiply_add_function()


def _money_flow_volume(high: float, low: float, close: float, volume: float) -> float:
    """Chaikin's close location in the bar's range times its volume; 0 for a bar with no range."""
    spread = high - low
    if spread > 0.0:
        return (close - low - (high - close)) / spread * volume
    return 0.0


class _Scalar:
    """The output plumbing shared by the one-output indicators: ``_value`` is NaN until ready."""

    outputs: ClassVar[tuple[str, ...]] = ("real",)
    __slots__ = ("_value",)

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


class AccumulationDistributionLine(_Scalar):
    """AD: the running sum of money flow volume, from the first bar.

    >>> line = AccumulationDistributionLine()
    >>> line.update(10.0, 10.0, 10.0, 500.0); line.value
    0.0
    """

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close", "volume")
    __slots__ = ("_line",)

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        super()._reset()
        self._line = 0.0

    def update(self, high: float, low: float, close: float, volume: float) -> None:
        spread = high - low
        if spread > 0.0:
            self._line += ((close - low) - (high - close)) / spread * volume
        self._value = self._line


class ChaikinOscillator(_Scalar):
    """ADOSC: fast EMA minus slow EMA of the AD line, both seeded with the first AD value.

    Unlike TA-Lib's EMA function, these EMAs start from the first bar's AD value (no simple
    average seed); the output appears once ``max(fastperiod, slowperiod)`` bars are in. Each
    step is TA-Lib's fused ``(1 - k) * ema + k * ad``: the difference of two EMAs of a line
    in the billions keeps every rounding of theirs.

    >>> oscillator = ChaikinOscillator(fastperiod=2, slowperiod=3)
    >>> for bar in [(2.0, 1.0, 2.0, 10.0), (2.0, 1.0, 2.0, 10.0), (2.0, 1.0, 1.0, 10.0)]:
    ...     oscillator.update(*bar)
    >>> round(oscillator.value, 6)
    -0.277778
    """

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close", "volume")
    __slots__ = ("fastperiod", "slowperiod", "_fast_rate", "_fast_keep", "_slow_rate", "_slow_keep", "_line",
                 "_fast", "_slow", "_bars")

    def __init__(self, fastperiod: int = 3, slowperiod: int = 10) -> None:
        _require_period("fastperiod", fastperiod, 2)
        _require_period("slowperiod", slowperiod, 2)
        self.fastperiod = fastperiod
        self.slowperiod = slowperiod
        self._fast_rate = 2.0 / (fastperiod + 1)
        self._fast_keep = 1.0 - self._fast_rate
        self._slow_rate = 2.0 / (slowperiod + 1)
        self._slow_keep = 1.0 - self._slow_rate
        self._reset()

    def _reset(self) -> None:
        super()._reset()
        self._line = 0.0
        self._fast = 0.0
        self._slow = 0.0
        self._bars = 0

    def update(self, high: float, low: float, close: float, volume: float) -> None:
        spread = high - low
        if spread > 0.0:
            self._line += ((close - low) - (high - close)) / spread * volume
        line = self._line
        self._bars += 1
        if self._bars == 1:
            self._fast = line
            self._slow = line
        else:
            self._fast = _fused_multiply_add(self._fast_keep, self._fast, self._fast_rate * line)
            self._slow = _fused_multiply_add(self._slow_keep, self._slow, self._slow_rate * line)
        if self._bars >= max(self.fastperiod, self.slowperiod):
            self._value = self._fast - self._slow


class ChaikinMoneyFlow(_Scalar):
    """CMF: money flow volume over volume, both summed over ``timeperiod`` bars (0 if no volume).

    >>> flow = ChaikinMoneyFlow(timeperiod=2)
    >>> for bar in [(2.0, 1.0, 2.0, 10.0), (2.0, 1.0, 1.0, 30.0)]:
    ...     flow.update(*bar)
    >>> flow.value
    -0.5
    """

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close", "volume")
    __slots__ = ("timeperiod", "_flows", "_volumes", "_flow_total", "_volume_total")

    def __init__(self, timeperiod: int = 20) -> None:
        _require_period("timeperiod", timeperiod, 2)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        super()._reset()
        self._flows: deque[float] = deque(maxlen=self.timeperiod)
        self._volumes: deque[float] = deque(maxlen=self.timeperiod)
        self._flow_total = 0.0
        self._volume_total = 0.0

    def update(self, high: float, low: float, close: float, volume: float) -> None:
        flows = self._flows
        volumes = self._volumes
        full = len(flows) == self.timeperiod
        if full:
            self._flow_total -= flows[0]
            self._volume_total -= volumes[0]
        flow = _money_flow_volume(high, low, close, volume)
        flows.append(flow)
        volumes.append(volume)
        self._flow_total += flow
        self._volume_total += volume
        if full or len(flows) == self.timeperiod:
            self._value = self._flow_total / self._volume_total if self._volume_total > 0.0 else 0.0


class ElderForceIndex(_Scalar):
    """EFI: EMA (seeded with a simple average) of ``(close - previous close) * volume``.

    ``timeperiod=1`` gives the raw force, as TA-Lib does.

    >>> force = ElderForceIndex(timeperiod=2)
    >>> for close, volume in [(10.0, 1.0), (11.0, 2.0), (10.0, 4.0), (10.5, 2.0)]:
    ...     force.update(close, volume)
    >>> round(force.value, 6)
    0.333333
    """

    inputs: ClassVar[tuple[str, ...]] = ("close", "volume")
    __slots__ = ("timeperiod", "_previous_close", "_average")

    def __init__(self, timeperiod: int = 13) -> None:
        _require_period("timeperiod", timeperiod, 1)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        super()._reset()
        self._previous_close = math.nan
        self._average = ExponentialMovingAverage(period=self.timeperiod)

    def update(self, close: float, volume: float) -> None:
        previous_close = self._previous_close
        self._previous_close = close
        if previous_close != previous_close:
            return
        force = (close - previous_close) * volume
        if self.timeperiod == 1:
            self._value = force
            return
        average = self._average
        average.update(force)
        if average.ready:
            self._value = average.value


class MarketFacilitationIndex(_Scalar):
    """MARKETFI: ``(high - low) / volume``, and 0 for a bar with exactly zero volume.

    >>> index = MarketFacilitationIndex()
    >>> index.update(11.0, 10.0, 4.0); index.value
    0.25
    """

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "volume")
    __slots__ = ()

    def __init__(self) -> None:
        self._reset()

    def update(self, high: float, low: float, volume: float) -> None:
        self._value = (high - low) / volume if volume != 0.0 else 0.0


class _VolumeIndex(_Scalar):
    """NVI and PVI: an index from 1000 that compounds the close's change on selected bars."""

    inputs: ClassVar[tuple[str, ...]] = ("close", "volume")
    __slots__ = ("_previous_close", "_previous_volume", "_index")

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        super()._reset()
        self._previous_close = math.nan
        self._previous_volume = math.nan
        self._index = 1000.0

    def _counts(self, volume: float, previous_volume: float) -> bool:
        raise NotImplementedError

    def update(self, close: float, volume: float) -> None:
        previous_close = self._previous_close
        if previous_close == previous_close and previous_close != 0.0 and self._counts(volume, self._previous_volume):
            index = self._index
            index += (close - previous_close) / previous_close * index
            if math.isfinite(index):
                self._index = index
        self._previous_close = close
        self._previous_volume = volume
        self._value = self._index


class NegativeVolumeIndex(_VolumeIndex):
    """NVI: compounds the close's percent change on bars whose volume fell.

    >>> index = NegativeVolumeIndex()
    >>> for close, volume in [(10.0, 5.0), (11.0, 4.0), (12.0, 9.0)]:
    ...     index.update(close, volume)
    >>> index.value
    1100.0
    """

    __slots__ = ()

    def _counts(self, volume: float, previous_volume: float) -> bool:
        return volume < previous_volume


class PositiveVolumeIndex(_VolumeIndex):
    """PVI: compounds the close's percent change on bars whose volume rose.

    >>> index = PositiveVolumeIndex()
    >>> for close, volume in [(10.0, 5.0), (11.0, 4.0), (12.1, 9.0)]:
    ...     index.update(close, volume)
    >>> round(index.value, 9)
    1100.0
    """

    __slots__ = ()

    def _counts(self, volume: float, previous_volume: float) -> bool:
        return volume > previous_volume


class OnBalanceVolume(_Scalar):
    """OBV: starts at the first bar's volume, then adds (subtracts) volume on up (down) closes.

    >>> balance = OnBalanceVolume()
    >>> for close, volume in [(10.0, 5.0), (11.0, 1.0), (10.5, 3.0)]:
    ...     balance.update(close, volume)
    >>> balance.value
    3.0
    """

    inputs: ClassVar[tuple[str, ...]] = ("close", "volume")
    __slots__ = ("_previous_close",)

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        super()._reset()
        self._previous_close = math.nan

    def update(self, close: float, volume: float) -> None:
        previous_close = self._previous_close
        self._previous_close = close
        if previous_close != previous_close:
            self._value = volume
        elif close > previous_close:
            self._value += volume
        elif close < previous_close:
            self._value -= volume


class PercentageVolumeOscillator(_Scalar):
    """PVO: ``100 * (fast MA - slow MA) / slow MA`` of the volume (0 where the slow MA is 0).

    Both averages run from the first bar with TA-Lib's moving average ``matype``; the periods
    are swapped if ``slowperiod < fastperiod``, as TA-Lib does.

    >>> oscillator = PercentageVolumeOscillator(fastperiod=2, slowperiod=3, matype=0)
    >>> for volume in [10.0, 20.0, 60.0]:
    ...     oscillator.update(volume)
    >>> oscillator.value
    33.33333333333333
    """

    inputs: ClassVar[tuple[str, ...]] = ("volume",)
    __slots__ = ("fastperiod", "slowperiod", "matype", "_fast", "_slow")

    def __init__(self, fastperiod: int = 12, slowperiod: int = 26, matype: int = 1) -> None:
        _require_period("fastperiod", fastperiod, 2)
        _require_period("slowperiod", slowperiod, 2)
        self.fastperiod = fastperiod
        self.slowperiod = slowperiod
        require_matype(matype)
        self.matype = matype
        self._reset()

    def _reset(self) -> None:
        super()._reset()
        self._fast = moving_average(self.matype, min(self.fastperiod, self.slowperiod))
        self._slow = moving_average(self.matype, max(self.fastperiod, self.slowperiod))

    def update(self, volume: float) -> None:
        fast = self._fast
        slow = self._slow
        fast.update(volume)
        slow.update(volume)
        if fast.ready and slow.ready:
            slow_value = slow.value
            self._value = (fast.value - slow_value) / slow_value * 100.0 if slow_value != 0.0 else 0.0


class PriceVolumeTrend(_Scalar):
    """PVT: the running sum of ``volume * (close - previous close) / previous close``, from 0.

    >>> trend = PriceVolumeTrend()
    >>> for close, volume in [(10.0, 5.0), (11.0, 20.0)]:
    ...     trend.update(close, volume)
    >>> trend.value
    2.0
    """

    inputs: ClassVar[tuple[str, ...]] = ("close", "volume")
    __slots__ = ("_previous_close", "_trend")

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        super()._reset()
        self._previous_close = math.nan
        self._trend = 0.0

    def update(self, close: float, volume: float) -> None:
        previous_close = self._previous_close
        self._previous_close = close
        if previous_close == previous_close and previous_close != 0.0:
            self._trend += (close - previous_close) / previous_close * volume
        self._value = self._trend


class RelativeVolume(_Scalar):
    """RVOL: this bar's volume over the mean volume of the ``timeperiod`` bars before it.

    A zero baseline gives what C's division gives: an infinity, or NaN for ``0 / 0``.

    >>> relative = RelativeVolume(timeperiod=2)
    >>> for volume in [10.0, 30.0, 40.0]:
    ...     relative.update(volume)
    >>> relative.value
    2.0
    """

    inputs: ClassVar[tuple[str, ...]] = ("volume",)
    __slots__ = ("timeperiod", "_volumes", "_total", "_zero_run", "_warm")

    def __init__(self, timeperiod: int = 20) -> None:
        _require_period("timeperiod", timeperiod, 1)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        super()._reset()
        self._volumes: deque[float] = deque(maxlen=self.timeperiod)
        self._total = 0.0
        self._zero_run = 0
        self._warm = False

    @property
    def ready(self) -> bool:
        return self._warm

    def update(self, volume: float) -> None:
        volumes = self._volumes
        period = self.timeperiod
        full = len(volumes) == period
        if full:
            baseline = self._total / period
            self._total -= volumes[0]
        volumes.append(volume)
        self._total += volume
        self._zero_run = self._zero_run + 1 if volume == 0.0 else 0
        if full:
            self._warm = True
            if self._zero_run >= period:
                self._zero_run = period
                self._total = 0.0
            self._value = _divide(volume, baseline)


class VolumeWeightedAveragePrice(_Scalar):
    """VWAP: sum of typical price times volume over the sum of volume, from the first bar.

    Until some volume has traded (the volume sum is positive) the value is 0, then the last
    average is carried; bars with a non-finite price or volume are skipped, as TA-Lib does.

    >>> average = VolumeWeightedAveragePrice()
    >>> for bar in [(12.0, 9.0, 9.0, 1.0), (15.0, 12.0, 15.0, 1.0)]:
    ...     average.update(*bar)
    >>> average.value
    12.0
    """

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close", "volume")
    __slots__ = ("_price_volume", "_volume")

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        super()._reset()
        self._price_volume = 0.0
        self._volume = 0.0

    def update(self, high: float, low: float, close: float, volume: float) -> None:
        typical_price = (high + low + close) / 3.0
        if math.isfinite(typical_price) and math.isfinite(volume):
            self._price_volume += typical_price * volume
            self._volume += volume
        if self._volume > 0.0:
            self._value = self._price_volume / self._volume
        elif self._value != self._value:
            self._value = 0.0


TALIB_FUNCTIONS: dict[str, type] = {
    "AD": AccumulationDistributionLine,
    "ADOSC": ChaikinOscillator,
    "CMF": ChaikinMoneyFlow,
    "EFI": ElderForceIndex,
    "MARKETFI": MarketFacilitationIndex,
    "NVI": NegativeVolumeIndex,
    "OBV": OnBalanceVolume,
    "PVI": PositiveVolumeIndex,
    "PVO": PercentageVolumeOscillator,
    "PVT": PriceVolumeTrend,
    "RVOL": RelativeVolume,
    "VWAP": VolumeWeightedAveragePrice,
}
