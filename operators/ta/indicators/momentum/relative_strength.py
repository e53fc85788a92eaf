"""``talib.RSI``: Wilder's relative strength index, rounded exactly as TA-Lib 0.8 rounds it.

Average gain and loss start as the plain means of the first ``timeperiod`` close-to-close
changes (sum times ``1 / timeperiod``); afterwards each is smoothed as
``(average * (timeperiod - 1) + change) * (1 / timeperiod)``. TA-Lib 0.8 multiplies by the
reciprocal where the classic formula divides, and copying that keeps the values bit-identical
to ``talib.RSI`` (dividing instead differs in the last bits, which is enough to flip the
adaptive averages STOCHRSI may smooth with). RSI is ``100 * gain / (gain + loss)``, or 0.0 when
that sum is not positive: both averages
are of non-negative terms, so only a window of exactly unchanged closes gives 0, at any price
level (a fixed band would read every instrument quoted below it as flat).

>>> rsi = WilderRelativeStrengthIndex(timeperiod=2)
>>> for close in [10.0, 11.0, 10.5, 11.5]:
...     rsi.update(close)
>>> round(rsi.value, 6)
85.714286
"""

from __future__ import annotations

from operators.ta.base import Indicator, Period
from operators.ta.indicators.momentum._wilder import WilderGainsAndLosses


class WilderRelativeStrengthIndex(Indicator):
    """RSI in [0, 100]; NaN for the first ``timeperiod`` closes."""

    __slots__ = ("timeperiod", "_averages")
    parameters = (Period("timeperiod", 14, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._averages = WilderGainsAndLosses(self.timeperiod, reciprocal=True)

    def update(self, close: float) -> None:
        averages = self._averages
        if averages.update(close):
            gain = averages.gain
            total = gain + averages.loss
            self._value = 100.0 * (gain / total) if total > 0.0 else 0.0


TALIB_FUNCTIONS: dict[str, type] = {"RSI": WilderRelativeStrengthIndex}
