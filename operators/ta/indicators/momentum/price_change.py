"""Change of the close over a fixed number of bars: ``talib.MOM`` and ``talib.COPPOCK``.

Momentum is ``close - close timeperiod bars ago``. The Coppock curve is the weighted moving
average (TA-Lib's WMA, over ``wmaperiod`` bars) of the sum of two rates of change,
``(close / close n bars ago - 1) * 100`` for ``n = roc1period`` and ``n = roc2period`` (0 where the
older close is exactly 0, as in TA-Lib's ROC); its first value comes at bar
``max(roc1period, roc2period) + wmaperiod - 1``. Both keep a bounded window: O(1) per update.

>>> momentum = Momentum(timeperiod=2)
>>> for close in [10.0, 11.0, 12.5]:
...     momentum.update(close)
>>> momentum.value
2.5
"""

from __future__ import annotations

import math
from collections import deque
from typing import ClassVar

from operators.ta.indicators.base import require_period
from operators.ta.indicators.overlap import WeightedMovingAverage


class Momentum:
    """``talib.MOM``: close minus the close ``timeperiod`` bars ago."""

    __slots__ = ("timeperiod", "_closes", "_value")

    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int = 10) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._closes: deque[float] = deque(maxlen=self.timeperiod + 1)
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

    def update(self, close: float) -> None:
        closes = self._closes
        closes.append(close)
        if len(closes) > self.timeperiod:
            self._value = close - closes[0]


def _rate_of_change(close: float, older: float) -> float:
    return (close / older - 1.0) * 100.0 if older != 0.0 else 0.0


class CoppockCurve:
    """``talib.COPPOCK``: WMA of the sum of a short and a long rate of change.

    >>> curve = CoppockCurve(wmaperiod=2, roc1period=1, roc2period=2)
    >>> for close in [100.0, 110.0, 121.0, 121.0]:
    ...     curve.update(close)
    >>> round(curve.value, 6)
    17.0
    """

    __slots__ = ("wmaperiod", "roc1period", "roc2period", "_short_closes", "_long_closes", "_average",
                 "_value")

    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, wmaperiod: int = 10, roc1period: int = 11, roc2period: int = 14) -> None:
        require_period("wmaperiod", wmaperiod)
        require_period("roc1period", roc1period)
        require_period("roc2period", roc2period)
        self.wmaperiod = wmaperiod
        self.roc1period = roc1period
        self.roc2period = roc2period
        self._reset()

    def _reset(self) -> None:
        self._short_closes: deque[float] = deque(maxlen=self.roc1period + 1)
        self._long_closes: deque[float] = deque(maxlen=self.roc2period + 1)
        self._average = WeightedMovingAverage(self.wmaperiod)
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

    def update(self, close: float) -> None:
        short_closes = self._short_closes
        long_closes = self._long_closes
        short_closes.append(close)
        long_closes.append(close)
        if len(short_closes) <= self.roc1period or len(long_closes) <= self.roc2period:
            return
        change = _rate_of_change(close, short_closes[0]) + _rate_of_change(close, long_closes[0])
        average = self._average
        average.update(change)
        if average.ready:
            self._value = average.value


TALIB_FUNCTIONS: dict[str, type] = {
    "MOM": Momentum,
    "COPPOCK": CoppockCurve,
}
