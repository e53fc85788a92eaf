"""Stochastic oscillators: ``talib.STOCHF``, ``talib.STOCH`` and ``talib.STOCHRSI``.

Fast %K places the close inside the high/low range of the last ``fastk_period`` bars,
``100 * ((close - lowest) / (highest - lowest))``, rounded as TA-Lib 0.8 rounds it, and is 0.0
when the range is no wider than ``1e-14 * (|highest| + |lowest|)`` (TA-Lib 0.8's relative
flat-window guard, found by experiment: a range of 90 ulps of the price reads as flat). The extremes come from monotonic deques (O(1) amortised). The smoothing
lines are TA-Lib moving averages of any ``matype``, started on the first %K value:

- STOCHF reports fast %K and fast %D (an average of %K);
- STOCH reports slow %K (an average of fast %K) and slow %D (an average of slow %K);
- STOCHRSI is STOCHF applied to Wilder's RSI of the closes (RSI as high, low and close).

Every output is NaN until the last average in the chain has its first value.

>>> stochastic = FastStochastic(fastk_period=3, fastd_period=2, fastd_matype=0)
>>> for high, low, close in [(10.0, 8.0, 9.0), (11.0, 9.0, 10.0), (12.0, 10.0, 11.0), (12.0, 9.0, 9.0)]:
...     stochastic.update(high, low, close)
>>> stochastic.values
(0.0, 37.5)
"""

from __future__ import annotations

import math
from typing import ClassVar

from operators.ta.indicators.base import require_period
from operators.ta.indicators.momentum._extremes import RollingExtremes
from operators.ta.indicators.momentum._parameters import require_moving_average_type
from operators.ta.indicators.overlap import moving_average
from operators.ta.indicators.momentum.relative_strength import WilderRelativeStrengthIndex

_NOT_READY = (math.nan, math.nan)
FLAT_RANGE_TOLERANCE = 1e-14


class FastStochastic:
    """``talib.STOCHF``: fast %K and its ``fastd_period`` average, fast %D."""

    __slots__ = ("fastk_period", "fastd_period", "fastd_matype", "_extremes", "_fast_d", "_fast_k")

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")
    outputs: ClassVar[tuple[str, ...]] = ("fastk", "fastd")

    def __init__(self, fastk_period: int = 5, fastd_period: int = 3, fastd_matype: int = 0) -> None:
        require_period("fastk_period", fastk_period)
        require_period("fastd_period", fastd_period)
        require_moving_average_type("fastd_matype", fastd_matype)
        self.fastk_period = fastk_period
        self.fastd_period = fastd_period
        self.fastd_matype = fastd_matype
        self._reset()

    def _reset(self) -> None:
        self._extremes = RollingExtremes(self.fastk_period)
        self._fast_d = moving_average(self.fastd_matype, self.fastd_period)
        self._fast_k = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._fast_d.ready

    @property
    def value(self) -> float:
        return self._fast_k if self._fast_d.ready else math.nan

    @property
    def values(self) -> tuple[float, ...]:
        if not self._fast_d.ready:
            return _NOT_READY
        return (self._fast_k, self._fast_d.value)

    def update(self, high: float, low: float, close: float) -> None:
        extremes = self._extremes
        extremes.update(high, low)
        if not extremes.full:
            return
        highest, lowest = extremes.highest, extremes.lowest
        width = highest - lowest
        if width > FLAT_RANGE_TOLERANCE * (abs(highest) + abs(lowest)):
            self._fast_k = 100.0 * ((close - lowest) / width)
        else:
            self._fast_k = 0.0
        self._fast_d.update(self._fast_k)


class SlowStochastic:
    """``talib.STOCH``: slow %K (an average of fast %K) and slow %D (an average of slow %K).

    >>> stochastic = SlowStochastic(fastk_period=2, slowk_period=2, slowd_period=1)
    >>> for high, low, close in [(10.0, 8.0, 9.0), (11.0, 9.0, 11.0), (12.0, 10.0, 11.0)]:
    ...     stochastic.update(high, low, close)
    >>> stochastic.values
    (83.33333333333333, 83.33333333333333)
    """

    __slots__ = ("fastk_period", "slowk_period", "slowk_matype", "slowd_period", "slowd_matype",
                 "_fast", "_slow_k", "_slow_d")

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")
    outputs: ClassVar[tuple[str, ...]] = ("slowk", "slowd")

    def __init__(self, fastk_period: int = 5, slowk_period: int = 3, slowk_matype: int = 0, slowd_period: int = 3,
                 slowd_matype: int = 0) -> None:
        require_period("fastk_period", fastk_period)
        require_period("slowk_period", slowk_period)
        require_moving_average_type("slowk_matype", slowk_matype)
        require_period("slowd_period", slowd_period)
        require_moving_average_type("slowd_matype", slowd_matype)
        self.fastk_period = fastk_period
        self.slowk_period = slowk_period
        self.slowk_matype = slowk_matype
        self.slowd_period = slowd_period
        self.slowd_matype = slowd_matype
        self._reset()

    def _reset(self) -> None:
        # Fast %K alone: a period-1 %D is the passthrough, so ``value`` is fast %K once full.
        self._fast = FastStochastic(self.fastk_period, fastd_period=1)
        self._slow_k = moving_average(self.slowk_matype, self.slowk_period)
        self._slow_d = moving_average(self.slowd_matype, self.slowd_period)

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._slow_d.ready

    @property
    def value(self) -> float:
        return self._slow_k.value if self._slow_d.ready else math.nan

    @property
    def values(self) -> tuple[float, ...]:
        if not self._slow_d.ready:
            return _NOT_READY
        return (self._slow_k.value, self._slow_d.value)

    def update(self, high: float, low: float, close: float) -> None:
        fast = self._fast
        fast.update(high, low, close)
        if not fast.ready:
            return
        self._slow_k.update(fast.value)
        if self._slow_k.ready:
            self._slow_d.update(self._slow_k.value)


class StochasticRelativeStrength:
    """``talib.STOCHRSI``: fast %K and fast %D of the ``timeperiod`` RSI.

    >>> stochastic = StochasticRelativeStrength(timeperiod=2, fastk_period=2, fastd_period=1)
    >>> for close in [10.0, 11.0, 10.0, 12.0]:
    ...     stochastic.update(close)
    >>> stochastic.values
    (100.0, 100.0)
    """

    __slots__ = ("timeperiod", "fastk_period", "fastd_period", "fastd_matype", "_rsi", "_stochastic")

    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("fastk", "fastd")

    def __init__(self, timeperiod: int = 14, fastk_period: int = 5, fastd_period: int = 3,
                 fastd_matype: int = 0) -> None:
        require_period("timeperiod", timeperiod, minimum=2)
        require_period("fastk_period", fastk_period)
        require_period("fastd_period", fastd_period)
        require_moving_average_type("fastd_matype", fastd_matype)
        self.timeperiod = timeperiod
        self.fastk_period = fastk_period
        self.fastd_period = fastd_period
        self.fastd_matype = fastd_matype
        self._reset()

    def _reset(self) -> None:
        self._rsi = WilderRelativeStrengthIndex(self.timeperiod)
        self._stochastic = FastStochastic(self.fastk_period, self.fastd_period, self.fastd_matype)

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._stochastic.ready

    @property
    def value(self) -> float:
        return self._stochastic.value

    @property
    def values(self) -> tuple[float, ...]:
        return self._stochastic.values

    def update(self, close: float) -> None:
        rsi = self._rsi
        rsi.update(close)
        if rsi.ready:
            strength = rsi.value
            self._stochastic.update(strength, strength, strength)


TALIB_FUNCTIONS: dict[str, type] = {
    "STOCH": SlowStochastic,
    "STOCHF": FastStochastic,
    "STOCHRSI": StochasticRelativeStrength,
}
