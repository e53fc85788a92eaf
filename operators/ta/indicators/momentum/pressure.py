"""Buying against selling pressure within each bar: ``talib.BOP`` and ``talib.WAD``.

Balance of power is ``(close - open) / (high - low)``, 0 when the range is not positive (an exact
test, as in TA-Lib 0.8: the output is a fraction of the bar's own range, so a fixed band would
zero every bar of an instrument quoted below it). Williams' accumulation/distribution adds, every
bar after the first, ``close - min(low, previous close)`` when the close rose,
``close - max(high, previous close)`` when it fell, nothing when unchanged; the first bar gives
0. Both are O(1) with no window (WAD is a running total, accumulated in TA-Lib's order).

>>> power = BalanceOfPower()
>>> power.update(10.0, 12.0, 9.0, 11.5)
>>> power.value
0.5
"""

from __future__ import annotations

import math

from operators.ta.base import Indicator


class BalanceOfPower(Indicator):
    """``talib.BOP``: where the close finished relative to the open, per unit of range."""

    __slots__ = ()
    inputs = ("open", "high", "low", "close")

    def update(self, open: float, high: float, low: float, close: float) -> None:  # noqa: A002
        bar_range = high - low
        self._value = (close - open) / bar_range if bar_range > 0.0 else 0.0


class WilliamsAccumulationDistribution(Indicator):
    """``talib.WAD``: running total of each close's move from the true range's far end.

    >>> accumulation = WilliamsAccumulationDistribution()
    >>> for bar in [(11.0, 9.0, 10.0), (12.0, 10.5, 11.5), (11.0, 9.0, 9.5)]:
    ...     accumulation.update(*bar)
    >>> accumulation.value
    -0.5
    """

    __slots__ = ("_previous_close",)
    inputs = ("high", "low", "close")

    def _reset(self) -> None:
        super()._reset()
        self._previous_close = math.nan

    def update(self, high: float, low: float, close: float) -> None:
        previous = self._previous_close
        self._previous_close = close
        if previous != previous:
            self._value = 0.0
        elif close > previous:
            self._value += close - min(low, previous)
        elif close < previous:
            self._value += close - max(high, previous)


TALIB_FUNCTIONS: dict[str, type] = {
    "BOP": BalanceOfPower,
    "WAD": WilliamsAccumulationDistribution,
}
