"""``talib.TRIX``: one-bar rate of change, in percent, of a triple-smoothed EMA.

Three TA-Lib-seeded EMAs of ``timeperiod`` are chained (each seeds on the first values the one
before publishes), and TRIX is ``(ema3 / previous ema3 - 1) * 100``, or 0.0 when the previous
value is exactly 0.0, as TA-Lib's ROC does. The first value comes after
``3 * (timeperiod - 1) + 1`` inputs.

>>> trix = TripleExponentialRateOfChange(timeperiod=1)
>>> for close in [4.0, 5.0]:
...     trix.update(close)
>>> trix.value
25.0
"""

from __future__ import annotations

import math
from typing import ClassVar

from operators.ta.indicators.base import require_period
from operators.ta.indicators.momentum._exponential import SeededExponentialAverage


class TripleExponentialRateOfChange:
    """TRIX of the closes; NaN until the third EMA has two values."""

    __slots__ = ("timeperiod", "_first", "_second", "_third", "_previous", "_value")

    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int = 30) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._first = SeededExponentialAverage(self.timeperiod)
        self._second = SeededExponentialAverage(self.timeperiod)
        self._third = SeededExponentialAverage(self.timeperiod)
        self._previous = math.nan
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
        self._first.update(close)
        if not self._first.ready:
            return
        self._second.update(self._first.value)
        if not self._second.ready:
            return
        self._third.update(self._second.value)
        if not self._third.ready:
            return
        current = self._third.value
        previous = self._previous
        self._previous = current
        if previous == previous:
            self._value = 0.0 if previous == 0.0 else (current / previous - 1.0) * 100.0


TALIB_FUNCTIONS: dict[str, type] = {"TRIX": TripleExponentialRateOfChange}
