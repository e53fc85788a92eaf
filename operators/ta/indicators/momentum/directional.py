"""Wilder's directional movement system: ``PLUS_DM``, ``MINUS_DM``, ``PLUS_DI``, ``MINUS_DI``,
``DX``, ``ADX`` and ``ADXR``.

A bar moves up by ``high - previous high`` and down by ``previous low - low``; the larger of the
two counts as directional movement (+DM or -DM) if it is positive, the other counts as zero. The
true range (TR) is ``max(high, previous close) - min(low, previous close)``. Like TA-Lib, the first
bar only supplies the "previous" values; bars 1 .. ``timeperiod - 1`` are summed, and every later
bar updates Wilder's running total ``total - total / timeperiod + term``. The +-DM outputs start
at bar ``timeperiod - 1``, DI and DX at ``timeperiod``, ADX averages the first ``timeperiod`` DX
values and then smooths ``(adx * (timeperiod - 1) + dx) / timeperiod``, ADXR averages ADX now and
``timeperiod - 1`` bars ago. Each update is O(1); ADXR keeps ``timeperiod`` ADX values.

TA-Lib quirks kept on purpose: with ``timeperiod=1`` the DI outputs are ``DM / TR`` (not times
100); a TR of exactly zero gives DI 0 and DX 0, and DI's that sum to exactly zero give DX 0 (which
ADX then smooths in). TA-Lib 0.8 compares with exact zero here, not ``TA_IS_ZERO``.

>>> index = AverageDirectionalIndex(timeperiod=2)
>>> for bar in [(10.0, 9.0, 9.5), (11.0, 9.5, 10.5), (12.0, 10.5, 11.5), (11.5, 10.0, 10.2)]:
...     index.update(*bar)
>>> index.value
60.0
"""

from __future__ import annotations

import math
from collections import deque

from operators.ta.base import Indicator, Period, SeededAverage
from operators.ta.indicators.volatility import true_range
from operators.ta.state import FlatState


class _DirectionalMovement(FlatState):
    """Wilder totals of +DM, -DM and TR; ``smoothed`` counts bars past the plain-sum seed."""

    __slots__ = ("timeperiod", "_bars", "_previous_high", "_previous_low", "_previous_close",
                 "plus", "minus", "true_range", "plus_term", "minus_term", "range_term")

    def __init__(self, timeperiod: int) -> None:
        self.timeperiod = timeperiod
        self._bars = 0
        self._previous_high = math.nan
        self._previous_low = math.nan
        self._previous_close = math.nan
        self.plus = 0.0
        self.minus = 0.0
        self.true_range = 0.0
        self.plus_term = 0.0
        self.minus_term = 0.0
        self.range_term = 0.0

    @property
    def bars(self) -> int:
        """Bars seen so far, the first one included."""
        return self._bars

    def update(self, high: float, low: float, close: float) -> None:
        bars = self._bars
        self._bars = bars + 1
        previous_close = self._previous_close
        up = high - self._previous_high
        down = self._previous_low - low
        self._previous_high = high
        self._previous_low = low
        self._previous_close = close
        if bars == 0:
            return
        plus_term = up if up > 0.0 and up > down else 0.0
        minus_term = down if down > 0.0 and down > up else 0.0
        range_term = true_range(high, low, previous_close)
        self.plus_term = plus_term
        self.minus_term = minus_term
        self.range_term = range_term
        period = self.timeperiod
        if bars < period:
            self.plus += plus_term
            self.minus += minus_term
            self.true_range += range_term
        else:
            self.plus = self.plus - self.plus / period + plus_term
            self.minus = self.minus - self.minus / period + minus_term
            self.true_range = self.true_range - self.true_range / period + range_term


class _Directional(Indicator):
    """Shared parameter and Wilder totals of the one-output directional indicators."""

    __slots__ = ("timeperiod", "_movement")
    inputs = ("high", "low", "close")
    parameters = (Period("timeperiod", 14),)

    def _reset(self) -> None:
        super()._reset()
        self._movement = _DirectionalMovement(self.timeperiod)

    @staticmethod
    def _term(movement: _DirectionalMovement) -> float:
        """This bar's movement on the indicator's side (+DM here, -DM for the minus side)."""
        return movement.plus_term

    @staticmethod
    def _total(movement: _DirectionalMovement) -> float:
        """The Wilder total of the indicator's side."""
        return movement.plus


class _MinusSide:
    """Mixin: read the -DM side instead of +DM."""

    __slots__ = ()

    @staticmethod
    def _term(movement: _DirectionalMovement) -> float:
        return movement.minus_term

    @staticmethod
    def _total(movement: _DirectionalMovement) -> float:
        return movement.minus


class PlusDirectionalMovement(_Directional):
    """``talib.PLUS_DM``: Wilder total of +DM; the raw +DM of each bar when ``timeperiod=1``.

    >>> movement = PlusDirectionalMovement(timeperiod=2)
    >>> for high, low in [(10.0, 9.0), (11.0, 9.5), (12.0, 10.5)]:
    ...     movement.update(high, low)
    >>> movement.value
    1.5
    """

    __slots__ = ()
    inputs = ("high", "low")

    def update(self, high: float, low: float) -> None:
        movement = self._movement
        movement.update(high, low, low)
        if self.timeperiod == 1:
            if movement.bars > 1:
                self._value = self._term(movement)
        elif movement.bars >= self.timeperiod:
            self._value = self._total(movement)


class MinusDirectionalMovement(_MinusSide, PlusDirectionalMovement):
    """``talib.MINUS_DM``: Wilder total of -DM.

    >>> movement = MinusDirectionalMovement(timeperiod=2)
    >>> for high, low in [(10.0, 9.0), (9.8, 8.0), (9.0, 7.5)]:
    ...     movement.update(high, low)
    >>> movement.value
    1.0
    """

    __slots__ = ()


def _ratio(movement: float, true_range: float, scale: float) -> float:
    return scale * (movement / true_range) if true_range != 0.0 else 0.0


class PlusDirectionalIndicator(_Directional):
    """``talib.PLUS_DI``: ``100 * +DM total / TR total``.

    >>> indicator = PlusDirectionalIndicator(timeperiod=2)
    >>> for bar in [(10.0, 9.0, 9.5), (11.0, 9.5, 10.5), (12.0, 10.5, 11.5)]:
    ...     indicator.update(*bar)
    >>> round(indicator.value, 6)
    66.666667
    """

    __slots__ = ()

    def update(self, high: float, low: float, close: float) -> None:
        movement = self._movement
        movement.update(high, low, close)
        if movement.bars <= self.timeperiod:
            return
        if self.timeperiod == 1:
            self._value = _ratio(self._term(movement), movement.range_term, 1.0)
        else:
            self._value = _ratio(self._total(movement), movement.true_range, 100.0)


class MinusDirectionalIndicator(_MinusSide, PlusDirectionalIndicator):
    """``talib.MINUS_DI``: ``100 * -DM total / TR total``.

    >>> indicator = MinusDirectionalIndicator(timeperiod=2)
    >>> for bar in [(10.0, 9.0, 9.5), (9.5, 8.0, 8.5), (9.0, 7.0, 7.5)]:
    ...     indicator.update(*bar)
    >>> round(indicator.value, 6)
    54.545455
    """

    __slots__ = ()


def _directional_index(movement: _DirectionalMovement) -> float:
    """DX of the current totals: ``100 * |-DI - +DI| / (-DI + +DI)``, 0 where TA-Lib gives 0."""
    true_range = movement.true_range
    if true_range == 0.0:
        return 0.0
    minus = 100.0 * (movement.minus / true_range)
    plus = 100.0 * (movement.plus / true_range)
    total = minus + plus
    return 100.0 * (abs(minus - plus) / total) if total != 0.0 else 0.0


class DirectionalMovementIndex(_Directional):
    """``talib.DX``: how one-sided the directional movement is, 0 .. 100.

    >>> index = DirectionalMovementIndex(timeperiod=2)
    >>> for bar in [(10.0, 9.0, 9.5), (11.0, 9.5, 10.5), (12.0, 10.5, 11.5)]:
    ...     index.update(*bar)
    >>> index.value
    100.0
    """

    __slots__ = ()
    parameters = (Period("timeperiod", 14, minimum=2),)

    def update(self, high: float, low: float, close: float) -> None:
        movement = self._movement
        movement.update(high, low, close)
        if movement.bars > self.timeperiod:
            self._value = _directional_index(movement)


class AverageDirectionalIndex(SeededAverage, _Directional):
    """``talib.ADX``: Wilder average of DX, first value at bar ``2 * timeperiod - 1``."""

    __slots__ = ("_seed_sum", "_count")
    parameters = (Period("timeperiod", 14, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._seed_sum = 0.0
        self._count = 0

    def update(self, high: float, low: float, close: float) -> None:
        movement = self._movement
        movement.update(high, low, close)
        if movement.bars > self.timeperiod:
            self._wilder(_directional_index(movement), self.timeperiod)


class AverageDirectionalIndexRating(Indicator):
    """``talib.ADXR``: mean of ADX now and ADX ``timeperiod - 1`` bars ago.

    >>> rating = AverageDirectionalIndexRating(timeperiod=2)
    >>> bars = [(10.0, 9.0, 9.5), (11.0, 9.5, 10.5), (12.0, 10.5, 11.5), (11.5, 10.0, 10.2),
    ...         (11.0, 9.8, 10.0)]
    >>> for bar in bars:
    ...     rating.update(*bar)
    >>> round(rating.value, 6)
    47.272727
    """

    __slots__ = ("timeperiod", "_average", "_history")
    inputs = ("high", "low", "close")
    parameters = (Period("timeperiod", 14, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._average = AverageDirectionalIndex(timeperiod=self.timeperiod)
        self._history: deque[float] = deque(maxlen=self.timeperiod)

    def update(self, high: float, low: float, close: float) -> None:
        average = self._average
        average.update(high, low, close)
        if not average.ready:
            return
        history = self._history
        history.append(average.value)
        if len(history) == self.timeperiod:
            self._value = (history[-1] + history[0]) / 2.0


TALIB_FUNCTIONS: dict[str, type] = {
    "PLUS_DM": PlusDirectionalMovement,
    "MINUS_DM": MinusDirectionalMovement,
    "PLUS_DI": PlusDirectionalIndicator,
    "MINUS_DI": MinusDirectionalIndicator,
    "DX": DirectionalMovementIndex,
    "ADX": AverageDirectionalIndex,
    "ADXR": AverageDirectionalIndexRating,
}
