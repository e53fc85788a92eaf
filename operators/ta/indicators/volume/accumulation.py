"""Chaikin's accumulation/distribution family: AD, ADOSC and CMF.

Each bar's money flow volume is where the close sits in the bar's range (-1 at the low, +1 at
the high) times its volume; a bar with no range adds nothing.

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
from collections.abc import Callable
from fractions import Fraction
from typing import ClassVar

from operators.ta.base import Indicator, Period
from operators.ta.ring import FloatRing

MAXIMUM_PERIOD = 100_000
PRICES_AND_VOLUME = ("high", "low", "close", "volume")


def exact_fused_multiply_add(factor: float, multiplier: float, addend: float) -> float:
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
            return exact_fused_multiply_add
        fused.restype = ctypes.c_double
        fused.argtypes = (ctypes.c_double, ctypes.c_double, ctypes.c_double)
        return fused  # type: ignore[no-any-return]
    return exact_fused_multiply_add


# ADOSC differences two EMAs of the AD line, which runs into the billions: one rounding more or
# less in an EMA step moves the oscillator by 1e-7, so its steps are fused exactly as TA-Lib's.
fused_multiply_add = _fused_multiply_add_function()


def money_flow_volume(high: float, low: float, close: float, volume: float) -> float:
    """Chaikin's close location in the bar's range times its volume; 0 for a bar with no range."""
    spread = high - low
    if spread > 0.0:
        return (close - low - (high - close)) / spread * volume
    return 0.0


class AccumulationDistributionLine(Indicator):
    """AD: the running sum of money flow volume, from the first bar.

    >>> line = AccumulationDistributionLine()
    >>> line.update(10.0, 10.0, 10.0, 500.0); line.value
    0.0
    """

    inputs: ClassVar[tuple[str, ...]] = PRICES_AND_VOLUME
    __slots__ = ("_line",)

    def _reset(self) -> None:
        super()._reset()
        self._line = 0.0

    def _accumulate(self, high: float, low: float, close: float, volume: float) -> float:
        """Add this bar's money flow volume to the line and return the line."""
        self._line += money_flow_volume(high, low, close, volume)
        return self._line

    def update(self, high: float, low: float, close: float, volume: float) -> None:
        self._value = self._accumulate(high, low, close, volume)


class ChaikinOscillator(AccumulationDistributionLine):
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

    parameters = (Period("fastperiod", 3, minimum=2, maximum=MAXIMUM_PERIOD),
                  Period("slowperiod", 10, minimum=2, maximum=MAXIMUM_PERIOD))
    __slots__ = ("fastperiod", "slowperiod", "_fast_rate", "_fast_keep", "_slow_rate", "_slow_keep",
                 "_fast", "_slow", "_bars")

    def _reset(self) -> None:
        super()._reset()
        self._fast_rate = 2.0 / (self.fastperiod + 1)
        self._fast_keep = 1.0 - self._fast_rate
        self._slow_rate = 2.0 / (self.slowperiod + 1)
        self._slow_keep = 1.0 - self._slow_rate
        self._fast = 0.0
        self._slow = 0.0
        self._bars = 0

    def update(self, high: float, low: float, close: float, volume: float) -> None:
        line = self._accumulate(high, low, close, volume)
        self._bars += 1
        if self._bars == 1:
            self._fast = line
            self._slow = line
        else:
            self._fast = fused_multiply_add(self._fast_keep, self._fast, self._fast_rate * line)
            self._slow = fused_multiply_add(self._slow_keep, self._slow, self._slow_rate * line)
        if self._bars >= max(self.fastperiod, self.slowperiod):
            self._value = self._fast - self._slow


class ChaikinMoneyFlow(Indicator):
    """CMF: money flow volume over volume, both summed over ``timeperiod`` bars (0 if no volume).

    >>> flow = ChaikinMoneyFlow(timeperiod=2)
    >>> for bar in [(2.0, 1.0, 2.0, 10.0), (2.0, 1.0, 1.0, 30.0)]:
    ...     flow.update(*bar)
    >>> flow.value
    -0.5
    """

    inputs: ClassVar[tuple[str, ...]] = PRICES_AND_VOLUME
    parameters = (Period("timeperiod", 20, minimum=2, maximum=MAXIMUM_PERIOD),)
    __slots__ = ("timeperiod", "_flows", "_volumes", "_flow_total", "_volume_total")

    def _reset(self) -> None:
        super()._reset()
        self._flows = FloatRing(self.timeperiod)
        self._volumes = FloatRing(self.timeperiod)
        self._flow_total = 0.0
        self._volume_total = 0.0

    def update(self, high: float, low: float, close: float, volume: float) -> None:
        flows = self._flows
        volumes = self._volumes
        full = len(flows) == self.timeperiod
        if full:
            self._flow_total -= flows[0]
            self._volume_total -= volumes[0]
        flow = money_flow_volume(high, low, close, volume)
        flows.append(flow)
        volumes.append(volume)
        self._flow_total += flow
        self._volume_total += volume
        if full or len(flows) == self.timeperiod:
            self._value = self._flow_total / self._volume_total if self._volume_total > 0.0 else 0.0
