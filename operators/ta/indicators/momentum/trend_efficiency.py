"""Net move against path length: ``talib.ER``, ``talib.VHF`` and ``talib.VORTEX``.

Each compares how far price travelled in a direction with how far it travelled in total over the
last ``timeperiod`` bar-to-bar steps, so each needs ``timeperiod + 1`` bars before its first value.
Path lengths are :class:`RollingSum` totals (O(1) per update, exact zero on a flat window, periodic
resync); extremes come from monotonic deques.

- Kaufman's efficiency ratio: ``|close - close timeperiod bars ago| / sum |close steps|``; TA-Lib
  gives 1.0 when the path has zero length.
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
from typing import ClassVar

from operators.ta.indicators.base import is_zero, require_period
from operators.ta.indicators.momentum.rolling_window import RollingArgExtreme, RollingSum


class _PathIndicator:
    """Shared contract: ``timeperiod`` validated, one output, NaN until ready."""

    __slots__ = ("timeperiod", "_value")

    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int) -> None:
        require_period("timeperiod", timeperiod, 2)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
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


class EfficiencyRatio(_PathIndicator):
    """``talib.ER``: Kaufman's efficiency ratio, 0 (noise) .. 1 (straight line)."""

    __slots__ = ("_closes", "_path")

    def __init__(self, timeperiod: int = 10) -> None:
        super().__init__(timeperiod)

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
        self._value = 1.0 if is_zero(path) else abs(close - closes[0]) / path


class VerticalHorizontalFilter(_PathIndicator):
    """``talib.VHF``: close range over path length; high in trends, low in ranges.

    >>> trend = VerticalHorizontalFilter(timeperiod=2)
    >>> for close in [10.0, 11.0, 10.5]:
    ...     trend.update(close)
    >>> trend.value
    0.3333333333333333
    """

    __slots__ = ("_previous", "_path", "_highest", "_lowest")

    def __init__(self, timeperiod: int = 28) -> None:
        super().__init__(timeperiod)

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
        self._value = 0.0 if is_zero(length) else (self._highest.value - self._lowest.value) / length


class Vortex:
    """``talib.VORTEX``: ``(plusvi, minusvi)``, upward and downward vortex movement over TR.

    >>> vortex = Vortex(timeperiod=2)
    >>> for bar in [(10.0, 9.0, 9.5), (11.0, 9.5, 10.5), (10.5, 9.0, 9.2)]:
    ...     vortex.update(*bar)
    >>> vortex.values
    (1.0, 0.8333333333333334)
    """

    __slots__ = ("timeperiod", "_previous_high", "_previous_low", "_previous_close", "_plus", "_minus",
                 "_true_range")

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")
    outputs: ClassVar[tuple[str, ...]] = ("plusvi", "minusvi")

    def __init__(self, timeperiod: int = 14) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._previous_high = math.nan
        self._previous_low = math.nan
        self._previous_close = math.nan
        self._plus = RollingSum(self.timeperiod)
        self._minus = RollingSum(self.timeperiod)
        self._true_range = RollingSum(self.timeperiod)

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._true_range.ready

    @property
    def value(self) -> float:
        return self.values[0]

    @property
    def values(self) -> tuple[float, ...]:
        true_range = self._true_range
        if not true_range.ready:
            return (math.nan, math.nan)
        total = true_range.value
        if is_zero(total):
            return (0.0, 0.0)
        return (self._plus.value / total, self._minus.value / total)

    def update(self, high: float, low: float, close: float) -> None:
        previous_high = self._previous_high
        previous_low = self._previous_low
        previous_close = self._previous_close
        self._previous_high = high
        self._previous_low = low
        self._previous_close = close
        if previous_close != previous_close:
            return
        self._plus.update(abs(high - previous_low))
        self._minus.update(abs(low - previous_high))
        self._true_range.update(max(high, previous_close) - min(low, previous_close))


TALIB_FUNCTIONS: dict[str, type] = {
    "ER": EfficiencyRatio,
    "VHF": VerticalHorizontalFilter,
    "VORTEX": Vortex,
}
