"""Net move against path length: ``talib.ER``, ``talib.VHF`` and ``talib.VORTEX``.

Each compares how far price travelled in a direction with how far it travelled in total over the
last ``timeperiod`` bar-to-bar steps, so each needs ``timeperiod + 1`` bars before its first value.
Path lengths are :class:`RollingSum` totals (O(1) per update, exact zero on a flat window, periodic
resync); extremes come from monotonic deques. A path is a sum of non-negative steps, so it is flat
exactly when it is not positive; the tests are exact, as in TA-Lib 0.8, so they hold at any price
level.

- Kaufman's efficiency ratio: ``|close - close timeperiod bars ago| / sum |close steps|``; TA-Lib
  gives 1.0 when the path has zero length, or is no longer than the net rise (where rounding
  would give ``1.0000000000000002``).
- Vertical horizontal filter: ``(highest close - lowest close) / sum |close steps|`` with the
  extremes over the last ``timeperiod`` closes (not ``timeperiod + 1``); 0.0 on a flat path.
- Vortex: ``sum |high - previous low| / sum TR`` and ``sum |low - previous high| / sum TR``;
  0.0 when the true ranges sum to zero.

>>> ratio = EfficiencyRatio(timeperiod=2)
>>> for close in [10.0, 11.0, 10.5]:
...     ratio.update(close)
>>> ratio.value
0.3333333333333333
"""

from __future__ import annotations

import math
from collections import deque

from operators.ta.base import Indicator, MultiOutputIndicator, Period
from operators.ta.indicators.momentum.rolling_window import RollingArgExtreme, RollingSum


class EfficiencyRatio(Indicator):
    """``talib.ER``: Kaufman's efficiency ratio, 0 (noise) .. 1 (straight line)."""

    __slots__ = ("timeperiod", "_closes", "_path")
    parameters = (Period("timeperiod", 10, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._closes: deque[float] = deque(maxlen=self.timeperiod + 1)
        self._path = RollingSum(self.timeperiod)

    def update(self, close: float) -> None:
        closes = self._closes
        if closes:
            self._path.update(abs(close - closes[-1]))
        closes.append(close)
        if len(closes) <= self.timeperiod:
            return
        path = self._path.value
        change = close - closes[0]
        self._value = 1.0 if path <= 0.0 or path <= change else abs(change / path)


class VerticalHorizontalFilter(Indicator):
    """``talib.VHF``: close range over path length; high in trends, low in ranges.

    >>> trend = VerticalHorizontalFilter(timeperiod=2)
    >>> for close in [10.0, 11.0, 10.5]:
    ...     trend.update(close)
    >>> trend.value
    0.3333333333333333
    """

    __slots__ = ("timeperiod", "_previous", "_path", "_highest", "_lowest")
    parameters = (Period("timeperiod", 28, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._previous = math.nan
        self._path = RollingSum(self.timeperiod)
        self._highest = RollingArgExtreme(self.timeperiod, highest=True)
        self._lowest = RollingArgExtreme(self.timeperiod, highest=False)

    def update(self, close: float) -> None:
        previous = self._previous
        self._previous = close
        self._highest.update(close)
        self._lowest.update(close)
        if previous != previous:
            return
        path = self._path
        path.update(abs(close - previous))
        if not path.ready:
            return
        length = path.value
        self._value = (self._highest.value - self._lowest.value) / length if length > 0.0 else 0.0


class Vortex(MultiOutputIndicator):
    """``talib.VORTEX``: ``(plusvi, minusvi)``, upward and downward vortex movement over TR.

    >>> vortex = Vortex(timeperiod=2)
    >>> for bar in [(10.0, 9.0, 9.5), (11.0, 9.5, 10.5), (10.5, 9.0, 9.2)]:
    ...     vortex.update(*bar)
    >>> vortex.values
    (1.0, 0.8333333333333334)
    """

    __slots__ = ("timeperiod", "_previous_high", "_previous_low", "_previous_close", "_plus", "_minus",
                 "_true_range")
    inputs = ("high", "low", "close")
    outputs = ("plusvi", "minusvi")
    parameters = (Period("timeperiod", 14),)

    def _reset(self) -> None:
        super()._reset()
        self._previous_high = math.nan
        self._previous_low = math.nan
        self._previous_close = math.nan
        self._plus = RollingSum(self.timeperiod)
        self._minus = RollingSum(self.timeperiod)
        self._true_range = RollingSum(self.timeperiod)

    def update(self, high: float, low: float, close: float) -> None:
        previous_high = self._previous_high
        previous_low = self._previous_low
        previous_close = self._previous_close
        self._previous_high = high
        self._previous_low = low
        self._previous_close = close
        if previous_close != previous_close:
            return
        true_range = self._true_range
        self._plus.update(abs(high - previous_low))
        self._minus.update(abs(low - previous_high))
        true_range.update(max(high, previous_close) - min(low, previous_close))
        if not true_range.ready:
            return
        total = true_range.value
        if total > 0.0:
            self._values = (self._plus.value / total, self._minus.value / total)
        else:
            self._values = (0.0, 0.0)


TALIB_FUNCTIONS: dict[str, type] = {
    "ER": EfficiencyRatio,
    "VHF": VerticalHorizontalFilter,
    "VORTEX": Vortex,
}
