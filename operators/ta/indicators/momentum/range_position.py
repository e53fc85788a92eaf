"""Where the close sits in the recent high-low range: ``talib.WILLR`` and ``talib.KDJ``.

Williams' %R is ``-100 * (highest high - close) / (highest high - lowest low)`` over the last
``timeperiod`` bars (0 when the range is zero). KDJ is TA-Lib's stochastic: the fast K line
``100 * (close - lowest low) / (highest high - lowest low)`` over ``fastk_period`` bars (0 on a zero
range), K its ``slowk_matype`` average over ``slowk_period``, D the ``slowd_matype`` average of K
over ``slowd_period``, and ``J = 3 K - 2 D``; all three appear together once D is ready. KDJ's
default ``matype`` 13 is Wilder's smoothing, and ``matype`` 11 ("the function's own default")
means 13 as well. Extremes come from monotonic deques: O(1) amortised per update.

>>> percent_r = WilliamsPercentR(timeperiod=2)
>>> for bar in [(12.0, 10.0, 11.0), (13.0, 11.0, 12.0)]:
...     percent_r.update(*bar)
>>> round(percent_r.value, 6)
-33.333333
"""

from __future__ import annotations

import math
from typing import ClassVar, Protocol

from operators.ta.indicators.base import require_period
from operators.ta.indicators.momentum.rolling_window import RollingArgExtreme

OWN_DEFAULT_MATYPE = 11
WILDER_MATYPE = 13


class _Average(Protocol):
    @property
    def value(self) -> float: ...

    @property
    def ready(self) -> bool: ...

    def update(self, close: float) -> None: ...


def _require_matype(name: str, matype: object) -> None:
    if isinstance(matype, bool) or not isinstance(matype, int) or not 0 <= matype <= 13:
        raise ValueError(f"{name} must be a TA-Lib MA type, an integer 0..13, got {matype!r}")


def _smoothing(matype: int, timeperiod: int) -> _Average:
    """TA-Lib's ``MA(timeperiod, matype)`` as KDJ uses it (11 means KDJ's default, Wilder).

    The overlap family's :func:`moving_average` builds every type it knows; the newer TA-Lib 0.8
    codes it may not list yet (9 Hull, 10 none, 12 zero-lag EMA, 13 Wilder) come from its classes.
    """
    from operators.ta.indicators import overlap  # imported late: a sibling family module

    if matype == OWN_DEFAULT_MATYPE:
        matype = WILDER_MATYPE
    if timeperiod == 1 or matype == 10:  # 10: TA-Lib's "no moving average"
        return overlap.Passthrough()
    if matype in overlap.MOVING_AVERAGE_TYPES:
        return overlap.moving_average(matype, timeperiod)
    newer = {9: overlap.HullMovingAverage, 12: overlap.ZeroLagExponentialMovingAverage,
             13: overlap.WilderMovingAverage}
    return newer[matype](timeperiod)  # type: ignore[no-any-return]


class _RangePosition:
    """Rolling highest high and lowest low over ``span`` bars."""

    __slots__ = ("_highest", "_lowest")

    def __init__(self, span: int) -> None:
        self._highest = RollingArgExtreme(span, highest=True)
        self._lowest = RollingArgExtreme(span, highest=False)

    @property
    def ready(self) -> bool:
        return self._highest.ready

    def update(self, high: float, low: float) -> tuple[float, float]:
        self._highest.update(high)
        self._lowest.update(low)
        return self._highest.value, self._lowest.value


class WilliamsPercentR:
    """``talib.WILLR``: 0 at the highest high, -100 at the lowest low."""

    __slots__ = ("timeperiod", "_range", "_value")

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int = 14) -> None:
        require_period("timeperiod", timeperiod, 2)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._range = _RangePosition(self.timeperiod)
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

    def update(self, high: float, low: float, close: float) -> None:
        highest, lowest = self._range.update(high, low)
        if not self._range.ready:
            return
        scale = (highest - lowest) * -0.01
        self._value = (highest - close) / scale if scale != 0.0 else 0.0


class KdjStochastic:
    """``talib.KDJ``: ``(k, d, j)``, a smoothed stochastic and its J line.

    >>> kdj = KdjStochastic(fastk_period=2, slowk_period=1, slowd_period=2)
    >>> for bar in [(12.0, 10.0, 11.0), (13.0, 11.0, 12.0), (13.0, 12.0, 13.0)]:
    ...     kdj.update(*bar)
    >>> kdj.values
    (100.0, 83.33333333333334, 133.33333333333331)
    """

    __slots__ = ("fastk_period", "slowk_period", "slowk_matype", "slowd_period", "slowd_matype",
                 "_range", "_slow_k", "_slow_d", "_values")

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")
    outputs: ClassVar[tuple[str, ...]] = ("k", "d", "j")

    def __init__(self, fastk_period: int = 9, slowk_period: int = 3, slowk_matype: int = 13,
                 slowd_period: int = 3, slowd_matype: int = 13) -> None:
        require_period("fastk_period", fastk_period)
        require_period("slowk_period", slowk_period)
        _require_matype("slowk_matype", slowk_matype)
        require_period("slowd_period", slowd_period)
        _require_matype("slowd_matype", slowd_matype)
        self.fastk_period = fastk_period
        self.slowk_period = slowk_period
        self.slowk_matype = slowk_matype
        self.slowd_period = slowd_period
        self.slowd_matype = slowd_matype
        self._reset()

    def _reset(self) -> None:
        self._range = _RangePosition(self.fastk_period)
        self._slow_k = _smoothing(self.slowk_matype, self.slowk_period)
        self._slow_d = _smoothing(self.slowd_matype, self.slowd_period)
        self._values = (math.nan, math.nan, math.nan)

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
        highest, lowest = self._range.update(high, low)
        if not self._range.ready:
            return
        scale = (highest - lowest) / 100.0
        fast_k = (close - lowest) / scale if scale != 0.0 else 0.0
        slow_k = self._slow_k
        slow_k.update(fast_k)
        if not slow_k.ready:
            return
        k = slow_k.value
        slow_d = self._slow_d
        slow_d.update(k)
        if slow_d.ready:
            d = slow_d.value
            self._values = (k, d, 3.0 * k - 2.0 * d)


TALIB_FUNCTIONS: dict[str, type] = {
    "WILLR": WilliamsPercentR,
    "KDJ": KdjStochastic,
}
