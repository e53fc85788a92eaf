"""Rate of change over ``timeperiod`` bars: ``talib.ROC``, ``ROCP``, ``ROCR`` and ``ROCR100``.

All four compare the newest close with the one ``timeperiod`` bars earlier and differ only in
the scale they report it on. The last ``timeperiod + 1`` closes live in a bounded deque, so an
update is O(1). Like TA-Lib, a previous close of exactly 0.0 gives 0.0 instead of dividing.

>>> rate = RateOfChangePercent(timeperiod=2)
>>> for close in [100.0, 104.0, 125.0]:
...     rate.update(close)
>>> rate.value
25.0
"""

from __future__ import annotations

import math
from collections import deque
from typing import ClassVar

from operators.ta.indicators.base import require_period


class _RateOfChange:
    """Shared window and contract; subclasses only say how the two closes become a number."""

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
        return len(self._closes) > self.timeperiod

    @property
    def value(self) -> float:
        return self._value

    @property
    def values(self) -> tuple[float, ...]:
        return (self._value,)

    def update(self, close: float) -> None:
        self._closes.append(close)
        if len(self._closes) > self.timeperiod:
            previous = self._closes[0]
            self._value = 0.0 if previous == 0.0 else self._scale(close, previous)

    @staticmethod
    def _scale(close: float, previous: float) -> float:
        raise NotImplementedError


class RateOfChangePercent(_RateOfChange):
    """``talib.ROC``: ``(close / previous - 1) * 100``.

    >>> rate = RateOfChangePercent(timeperiod=1)
    >>> rate.update(50.0); rate.update(40.0)
    >>> rate.value
    -19.999999999999996
    """

    __slots__ = ()

    @staticmethod
    def _scale(close: float, previous: float) -> float:
        return (close / previous - 1.0) * 100.0


class RateOfChangeFraction(_RateOfChange):
    """``talib.ROCP``: ``(close - previous) / previous``.

    >>> rate = RateOfChangeFraction(timeperiod=1)
    >>> rate.update(50.0); rate.update(40.0)
    >>> rate.value
    -0.2
    """

    __slots__ = ()

    @staticmethod
    def _scale(close: float, previous: float) -> float:
        return (close - previous) / previous


class RateOfChangeRatio(_RateOfChange):
    """``talib.ROCR``: ``close / previous``.

    >>> rate = RateOfChangeRatio(timeperiod=1)
    >>> rate.update(50.0); rate.update(40.0)
    >>> rate.value
    0.8
    """

    __slots__ = ()

    @staticmethod
    def _scale(close: float, previous: float) -> float:
        return close / previous


class RateOfChangeRatio100(_RateOfChange):
    """``talib.ROCR100``: ``close / previous * 100``.

    >>> rate = RateOfChangeRatio100(timeperiod=1)
    >>> rate.update(50.0); rate.update(40.0)
    >>> rate.value
    80.0
    """

    __slots__ = ()

    @staticmethod
    def _scale(close: float, previous: float) -> float:
        return close / previous * 100.0


TALIB_FUNCTIONS: dict[str, type] = {
    "ROC": RateOfChangePercent,
    "ROCP": RateOfChangeFraction,
    "ROCR": RateOfChangeRatio,
    "ROCR100": RateOfChangeRatio100,
}
