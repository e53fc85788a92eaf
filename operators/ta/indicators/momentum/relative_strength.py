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

from operators.ta.indicators.momentum._wilder import WilderOscillator


class WilderRelativeStrengthIndex(WilderOscillator):
    """RSI in [0, 100]; NaN for the first ``timeperiod`` closes."""

    __slots__ = ()
    reciprocal = True

    @staticmethod
    def _numerator(gain: float, loss: float) -> float:
        return gain


TALIB_FUNCTIONS: dict[str, type] = {"RSI": WilderRelativeStrengthIndex}
