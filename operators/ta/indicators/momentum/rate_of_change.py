"""Rate of change over ``timeperiod`` bars: ``talib.ROC``, ``ROCP``, ``ROCR`` and ``ROCR100``.

All four compare the newest close with the one ``timeperiod`` bars earlier and differ only in
the scale they report it on. The last ``timeperiod + 1`` closes live in a ring buffer, so an
update is O(1). Like TA-Lib, a previous close of exactly 0.0 gives 0.0 instead of dividing.

>>> rate = RateOfChangePercent(timeperiod=2)
>>> for close in [100.0, 104.0, 125.0]:
...     rate.update(close)
>>> rate.value
25.0
"""

from __future__ import annotations


from operators.ta.base import Indicator, Period
from operators.ta.ring import FloatRing


def percent_change(close: float, previous: float) -> float:
    """TA-Lib's ROC of two closes: ``(close / previous - 1) * 100``, 0.0 for a zero ``previous``.

    >>> percent_change(110.0, 100.0), percent_change(5.0, 0.0)
    (10.000000000000009, 0.0)
    """
    return (close / previous - 1.0) * 100.0 if previous != 0.0 else 0.0


class ChangeOverPeriod(Indicator):
    """The window of ``timeperiod + 1`` closes; subclasses say how the newest and oldest compare."""

    __slots__ = ("timeperiod", "_closes")
    parameters = (Period("timeperiod", 10),)

    def _reset(self) -> None:
        super()._reset()
        self._closes = FloatRing(self.timeperiod + 1)

    def update(self, close: float) -> None:
        closes = self._closes
        closes.append(close)
        if len(closes) > self.timeperiod:
            self._value = self._compare(close, closes[0])

    @staticmethod
    def _compare(close: float, previous: float) -> float:
        raise NotImplementedError


class RateOfChangePercent(ChangeOverPeriod):
    """``talib.ROC``: ``(close / previous - 1) * 100``.

    >>> rate = RateOfChangePercent(timeperiod=1)
    >>> rate.update(50.0); rate.update(40.0)
    >>> rate.value
    -19.999999999999996
    """

    __slots__ = ()
    _compare = staticmethod(percent_change)


class RateOfChangeFraction(ChangeOverPeriod):
    """``talib.ROCP``: ``(close - previous) / previous``.

    >>> rate = RateOfChangeFraction(timeperiod=1)
    >>> rate.update(50.0); rate.update(40.0)
    >>> rate.value
    -0.2
    """

    __slots__ = ()

    @staticmethod
    def _compare(close: float, previous: float) -> float:
        return (close - previous) / previous if previous != 0.0 else 0.0


class RateOfChangeRatio(ChangeOverPeriod):
    """``talib.ROCR``: ``close / previous``.

    >>> rate = RateOfChangeRatio(timeperiod=1)
    >>> rate.update(50.0); rate.update(40.0)
    >>> rate.value
    0.8
    """

    __slots__ = ()

    @staticmethod
    def _compare(close: float, previous: float) -> float:
        return close / previous if previous != 0.0 else 0.0


class RateOfChangeRatio100(ChangeOverPeriod):
    """``talib.ROCR100``: ``close / previous * 100``.

    >>> rate = RateOfChangeRatio100(timeperiod=1)
    >>> rate.update(50.0); rate.update(40.0)
    >>> rate.value
    80.0
    """

    __slots__ = ()

    @staticmethod
    def _compare(close: float, previous: float) -> float:
        return close / previous * 100.0 if previous != 0.0 else 0.0


TALIB_FUNCTIONS: dict[str, type] = {
    "ROC": RateOfChangePercent,
    "ROCP": RateOfChangeFraction,
    "ROCR": RateOfChangeRatio,
    "ROCR100": RateOfChangeRatio100,
}
