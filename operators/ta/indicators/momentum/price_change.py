"""Change of the close over a fixed number of bars: ``talib.MOM`` and ``talib.COPPOCK``.

Momentum is ``close - close timeperiod bars ago`` (the window of :class:`ChangeOverPeriod`,
shared with the rates of change). The Coppock curve is the weighted moving average (TA-Lib's
WMA, over ``wmaperiod`` bars) of the sum of two rates of change, ``(close / close n bars ago -
1) * 100`` for ``n = roc1period`` and ``n = roc2period`` (0 where the older close is exactly 0,
as in TA-Lib's ROC); its first value comes at bar ``max(roc1period, roc2period) + wmaperiod - 1``. Bounded windows: O(1) per update.

>>> momentum = Momentum(timeperiod=2)
>>> for close in [10.0, 11.0, 12.5]:
...     momentum.update(close)
>>> momentum.value
2.5
"""

from __future__ import annotations

from collections import deque

from operators.ta.base import Indicator, Period
from operators.ta.indicators.momentum.rate_of_change import ChangeOverPeriod, percent_change
from operators.ta.indicators.overlap import WeightedMovingAverage


class Momentum(ChangeOverPeriod):
    """``talib.MOM``: close minus the close ``timeperiod`` bars ago."""

    __slots__ = ()

    @staticmethod
    def _compare(close: float, previous: float) -> float:
        return close - previous


class CoppockCurve(Indicator):
    """``talib.COPPOCK``: WMA of the sum of a short and a long rate of change.

    >>> curve = CoppockCurve(wmaperiod=2, roc1period=1, roc2period=2)
    >>> for close in [100.0, 110.0, 121.0, 121.0]:
    ...     curve.update(close)
    >>> round(curve.value, 6)
    17.0
    """

    __slots__ = ("wmaperiod", "roc1period", "roc2period", "_closes", "_average")
    parameters = (Period("wmaperiod", 10), Period("roc1period", 11), Period("roc2period", 14))

    def _reset(self) -> None:
        super()._reset()
        self._closes: deque[float] = deque(maxlen=max(self.roc1period, self.roc2period) + 1)
        self._average = WeightedMovingAverage(timeperiod=self.wmaperiod)

    def update(self, close: float) -> None:
        closes = self._closes
        closes.append(close)
        if len(closes) < closes.maxlen:  # type: ignore[operator]
            return
        change = percent_change(close, closes[-1 - self.roc1period]) + percent_change(close, closes[-1 - self.roc2period])
        average = self._average
        average.update(change)
        if average.ready:
            self._value = average.value


TALIB_FUNCTIONS: dict[str, type] = {
    "MOM": Momentum,
    "COPPOCK": CoppockCurve,
}
