"""TA-Lib's price transforms (and AVGDEV), fed one bar at a time.

Each follows the indicator contract of :mod:`operators.ta.base`: TA-Lib's parameter names and
defaults, ``update(*inputs)``, ``values`` (NaN where TA-Lib has none), ``value``, ``ready`` and
``reset()``. The bar-wise transforms use TA-Lib's operand order, so they are bit-identical to it.

``AVGDEV`` is the one exception to O(1) updates in the overlap family: the mean absolute
deviation around a *moving* mean changes every term when the mean moves, so no O(1) update
exists; each update sums the ``timeperiod`` deviations, newest first, as TA-Lib does (which
also makes it bit-identical). The window stays bounded at ``timeperiod`` values.

>>> price = TypicalPrice()
>>> price.update(11.0, 9.0, 10.0)
>>> price.value
10.0
"""

from __future__ import annotations

from collections import deque

from operators.ta.base import Indicator, MultiOutputIndicator, Period


class AveragePrice(Indicator):
    """``talib.AVGPRICE``: ``(high + low + close + open) / 4``.

    >>> price = AveragePrice()
    >>> price.update(10.0, 12.0, 8.0, 11.0)
    >>> price.value
    10.25
    """

    __slots__ = ()
    inputs = ("open", "high", "low", "close")

    def update(self, open: float, high: float, low: float, close: float) -> None:  # noqa: A002 - TA-Lib's name
        self._value = (high + low + close + open) / 4


class MedianPrice(Indicator):
    """``talib.MEDPRICE``: ``(high + low) / 2``.

    >>> price = MedianPrice()
    >>> price.update(12.0, 8.0)
    >>> price.value
    10.0
    """

    __slots__ = ()
    inputs = ("high", "low")

    def update(self, high: float, low: float) -> None:
        self._value = (high + low) / 2.0


class TypicalPrice(Indicator):
    """``talib.TYPPRICE``: ``(high + low + close) / 3``.

    >>> price = TypicalPrice()
    >>> price.update(12.0, 8.0, 13.0)
    >>> price.value
    11.0
    """

    __slots__ = ()
    inputs = ("high", "low", "close")

    def update(self, high: float, low: float, close: float) -> None:
        self._value = (high + low + close) / 3.0


class WeightedClosePrice(Indicator):
    """``talib.WCLPRICE``: ``(high + low + 2 * close) / 4``.

    >>> price = WeightedClosePrice()
    >>> price.update(12.0, 8.0, 11.0)
    >>> price.value
    10.5
    """

    __slots__ = ()
    inputs = ("high", "low", "close")

    def update(self, high: float, low: float, close: float) -> None:
        self._value = (high + low + close * 2) / 4.0


class HeikinAshi(MultiOutputIndicator):
    """``talib.HA``: Heikin-Ashi candles. The close is the bar's average price; the open is the
    midpoint of the previous Heikin-Ashi open and close (the first bar's: of its open and close);
    high and low stretch to cover both.

    >>> candles = HeikinAshi()
    >>> for bar in [(10.0, 12.0, 9.0, 11.0), (11.0, 13.0, 10.0, 12.0)]:
    ...     candles.update(*bar)
    >>> candles.values
    (10.5, 13.0, 10.0, 11.5)
    """

    __slots__ = ()
    inputs = ("open", "high", "low", "close")
    outputs = ("haopen", "hahigh", "halow", "haclose")

    def update(self, open: float, high: float, low: float, close: float) -> None:  # noqa: A002 - TA-Lib's name
        previous_open, _, _, previous_close = self._values
        candle_close = (open + high + low + close) / 4
        if previous_open != previous_open:
            candle_open = (open + close) / 2
        else:
            candle_open = (previous_open + previous_close) / 2
        self._values = (
            candle_open,
            max(high, candle_open, candle_close),
            min(low, candle_open, candle_close),
            candle_close,
        )


class AverageDeviation(Indicator):
    """``talib.AVGDEV``: mean absolute deviation of the last ``timeperiod`` values from their
    mean; O(timeperiod) per update (see the module note).

    >>> deviation = AverageDeviation(timeperiod=3)
    >>> for close in [1.0, 2.0, 6.0]:
    ...     deviation.update(close)
    >>> deviation.value
    2.0
    """

    __slots__ = ("timeperiod", "_window")
    parameters = (Period("timeperiod", 14, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._window: deque[float] = deque(maxlen=self.timeperiod)

    def update(self, close: float) -> None:
        window = self._window
        window.append(close)
        period = self.timeperiod
        if len(window) < period:
            return
        total = 0.0
        for value in reversed(window):
            total += value
        mean = total / period
        deviations = 0.0
        for value in reversed(window):
            deviations += abs(value - mean)
        self._value = deviations / period


TALIB_FUNCTIONS: dict[str, type[Indicator]] = {
    "AVGDEV": AverageDeviation,
    "AVGPRICE": AveragePrice,
    "HA": HeikinAshi,
    "MEDPRICE": MedianPrice,
    "TYPPRICE": TypicalPrice,
    "WCLPRICE": WeightedClosePrice,
}
