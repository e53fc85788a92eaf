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

from operators.ta.base import Indicator, Period
from operators.ta.indicators.momentum._exponential import SeededExponentialAverage


class TripleExponentialRateOfChange(Indicator):
    """TRIX of the closes; NaN until the third EMA has two values."""

    __slots__ = ("timeperiod", "_averages", "_previous")
    parameters = (Period("timeperiod", 30),)

    def _reset(self) -> None:
        super()._reset()
        self._averages = tuple(SeededExponentialAverage(self.timeperiod) for _ in range(3))
        self._previous = math.nan

    def update(self, close: float) -> None:
        value = close
        for average in self._averages:
            average.update(value)
            if not average.ready:
                return
            value = average.value
        previous = self._previous
        self._previous = value
        if previous == previous:
            self._value = 0.0 if previous == 0.0 else (value / previous - 1.0) * 100.0


TALIB_FUNCTIONS: dict[str, type] = {"TRIX": TripleExponentialRateOfChange}
