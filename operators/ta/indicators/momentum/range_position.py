"""Where the close sits in the recent high-low range: ``talib.WILLR`` and ``talib.KDJ``.

Williams' %R is ``((highest high - close) / (highest high - lowest low)) * -100`` over the last
``timeperiod`` bars, divided by the range before scaling and clamped into [-100, 0], so a close
on the low is exactly -100, as in TA-Lib 0.8. KDJ is TA-Lib's slow stochastic: the fast K line of
:func:`.stochastic.fast_k` over ``fastk_period`` bars, K its ``slowk_matype`` average over ``slowk_period``,
D the ``slowd_matype`` average of K over ``slowd_period``, and ``J = 3 K - 2 D``; all three appear
together once D is ready. Both read a window as flat (output 0) when its range is within
``1e-14 * (|highest| + |lowest|)``, TA-Lib 0.8's relative guard. KDJ's default ``matype`` 13 is
Wilder's smoothing, and ``matype`` 11 ("the function's own default") means 13 as well. Extremes
come from monotonic deques: O(1) amortised per update.

>>> percent_r = WilliamsPercentR(timeperiod=2)
>>> for bar in [(12.0, 10.0, 11.0), (13.0, 11.0, 12.0)]:
...     percent_r.update(*bar)
>>> round(percent_r.value, 6)
-33.333333
"""

from __future__ import annotations

from operators.ta.base import Indicator, MovingAverageType, Period
from operators.ta.indicators import overlap
from operators.ta.indicators.momentum.rolling_window import RollingRange, is_flat_range
from operators.ta.indicators.momentum.stochastic import SlowStochastic

OWN_DEFAULT_MATYPE = 11
NO_AVERAGE_MATYPE = 10
WILDER_MATYPE = 13


class KdjMovingAverageType(MovingAverageType):
    """KDJ's ``matype``: TA-Lib 0.8's codes 0..13 (9 Hull, 10 none, 11 default, 12 ZLEMA, 13 Wilder)."""

    __slots__ = ()
    requirement = "a TA-Lib moving-average type 0..13"

    def accepts(self, value: object) -> bool:
        return not isinstance(value, bool) and isinstance(value, int) and 0 <= value <= WILDER_MATYPE


def _smoothing(matype: int, timeperiod: int) -> Indicator:
    """TA-Lib's ``MA(timeperiod, matype)`` as KDJ uses it (11 means KDJ's default, Wilder).

    The overlap family's :func:`moving_average` builds the classic types 0..8; the newer TA-Lib 0.8
    codes come from their classes.
    """
    if matype == OWN_DEFAULT_MATYPE:
        matype = WILDER_MATYPE
    if timeperiod == 1 or matype == NO_AVERAGE_MATYPE:
        return overlap.Passthrough()
    if matype <= 8:
        return overlap.moving_average(matype=matype, timeperiod=timeperiod)
    newer = {9: overlap.HullMovingAverage, 12: overlap.ZeroLagExponentialMovingAverage,
             13: overlap.WilderMovingAverage}
    return newer[matype](timeperiod=timeperiod)  # type: ignore[no-any-return]


class WilliamsPercentR(Indicator):
    """``talib.WILLR``: 0 at the highest high, -100 at the lowest low."""

    __slots__ = ("timeperiod", "_range")
    inputs = ("high", "low", "close")
    parameters = (Period("timeperiod", 14, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._range = RollingRange(self.timeperiod)

    def update(self, high: float, low: float, close: float) -> None:
        window = self._range
        window.update(high, low)
        if not window.ready:
            return
        highest, lowest = window.highest, window.lowest
        if is_flat_range(highest, lowest):
            self._value = 0.0
            return
        percent = ((highest - close) / (highest - lowest)) * -100.0
        self._value = 0.0 if percent > 0.0 else max(percent, -100.0)


class KdjStochastic(SlowStochastic):
    """``talib.KDJ``: ``(k, d, j)``, a slow stochastic with KDJ's smoothing types and its J line.

    >>> kdj = KdjStochastic(fastk_period=2, slowk_period=1, slowd_period=2)
    >>> for bar in [(12.0, 10.0, 11.0), (13.0, 11.0, 12.0), (13.0, 12.0, 13.0)]:
    ...     kdj.update(*bar)
    >>> kdj.values
    (100.0, 83.33333333333333, 133.33333333333334)
    """

    __slots__ = ()
    outputs = ("k", "d", "j")
    parameters = (Period("fastk_period", 9), Period("slowk_period", 3), KdjMovingAverageType("slowk_matype", 13),
                  Period("slowd_period", 3), KdjMovingAverageType("slowd_matype", 13))

    _average = staticmethod(_smoothing)

    def _lines(self, slow_k: float, slow_d: float) -> tuple[float, ...]:
        return (slow_k, slow_d, 3.0 * slow_k - 2.0 * slow_d)


TALIB_FUNCTIONS: dict[str, type] = {
    "WILLR": WilliamsPercentR,
    "KDJ": KdjStochastic,
}
