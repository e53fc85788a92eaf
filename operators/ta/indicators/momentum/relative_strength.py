"""``talib.RSI``: Wilder's relative strength index, rounded exactly as TA-Lib 0.8 rounds it.

Average gain and loss start as the plain means of the first ``timeperiod`` close-to-close
changes (sum times ``1 / timeperiod``); afterwards each is smoothed as
``(average * (timeperiod - 1) + change) * (1 / timeperiod)``. TA-Lib 0.8 multiplies by the
reciprocal where the classic formula divides, and
copying that keeps the values bit-identical to ``talib.RSI`` (the older
:class:`operators.ta.indicators.rsi.RelativeStrengthIndex` divides and differs in the last bits,
which is enough to flip the adaptive averages STOCHRSI may smooth with). RSI is
``100 * gain / (gain + loss)``, or 0.0 when that sum is within 1e-14 of zero.

>>> rsi = WilderRelativeStrengthIndex(timeperiod=2)
>>> for close in [10.0, 11.0, 10.5, 11.5]:
...     rsi.update(close)
>>> round(rsi.value, 6)
85.714286
"""

from __future__ import annotations

import math
from typing import ClassVar

from operators.ta.indicators.base import is_zero, require_period


class WilderRelativeStrengthIndex:
    """RSI in [0, 100]; NaN for the first ``timeperiod`` closes."""

    __slots__ = ("timeperiod", "_reciprocal", "_changes", "_previous", "_average_gain", "_average_loss", "_value")

    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int = 14) -> None:
        require_period("timeperiod", timeperiod, minimum=2)
        self.timeperiod = timeperiod
        self._reciprocal = 1.0 / timeperiod
        self._reset()

    def _reset(self) -> None:
        self._changes = 0
        self._previous = math.nan
        self._average_gain = 0.0
        self._average_loss = 0.0
        self._value = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._changes >= self.timeperiod

    @property
    def value(self) -> float:
        return self._value

    @property
    def values(self) -> tuple[float, ...]:
        return (self._value,)

    def update(self, close: float) -> None:
        previous = self._previous
        self._previous = close
        if previous != previous:  # the first close has nothing to compare with
            return
        change = close - previous
        gain = change if change >= 0.0 else 0.0
        loss = -change if change < 0.0 else 0.0
        period = self.timeperiod
        if self._changes < period:
            self._average_gain += gain
            self._average_loss += loss
            self._changes += 1
            if self._changes < period:
                return
            self._average_gain *= self._reciprocal
            self._average_loss *= self._reciprocal
        else:
            self._average_gain = (self._average_gain * (period - 1) + gain) * self._reciprocal
            self._average_loss = (self._average_loss * (period - 1) + loss) * self._reciprocal
        total = self._average_gain + self._average_loss
        self._value = 0.0 if is_zero(total) else 100.0 * (self._average_gain / total)


TALIB_FUNCTIONS: dict[str, type] = {"RSI": WilderRelativeStrengthIndex}
