"""Stochastic oscillators: ``talib.STOCHF``, ``talib.STOCH`` and ``talib.STOCHRSI``.

Fast %K places the close inside the high/low range of the last ``fastk_period`` bars,
``100 * ((close - lowest) / (highest - lowest))``, rounded as TA-Lib 0.8 rounds it, and is 0.0
on a flat window: a range within ``1e-14 * (|highest| + |lowest|)`` (TA-Lib 0.8's relative
guard, :func:`is_flat_range`). The extremes come from monotonic deques (O(1) amortised). The
smoothing lines are TA-Lib moving averages of any ``matype``, started on the first %K value:

- STOCHF reports fast %K and fast %D (an average of %K);
- STOCH reports slow %K (an average of fast %K) and slow %D (an average of slow %K);
- STOCHRSI is STOCHF applied to Wilder's RSI of the closes (RSI as high, low and close).

Every output is NaN until the last average in the chain has its first value.

>>> stochastic = FastStochastic(fastk_period=3, fastd_period=2, fastd_matype=0)
>>> for high, low, close in [(10.0, 8.0, 9.0), (11.0, 9.0, 10.0), (12.0, 10.0, 11.0), (12.0, 9.0, 9.0)]:
...     stochastic.update(high, low, close)
>>> stochastic.values
(0.0, 37.5)
"""

from __future__ import annotations

from operators.ta.base import Indicator, MovingAverageType, MultiOutputIndicator, Period
from operators.ta.indicators.momentum.relative_strength import WilderRelativeStrengthIndex
from operators.ta.indicators.momentum.rolling_window import RollingRange, is_flat_range
from operators.ta.indicators.overlap import moving_average


def fast_k(highest: float, lowest: float, close: float) -> float:
    """Fast %K of ``close`` in ``[lowest, highest]``, 0.0 on a flat range (TA-Lib's STOCH).

    >>> fast_k(12.0, 10.0, 11.5), fast_k(10.0, 10.0, 10.0)
    (75.0, 0.0)
    """
    if is_flat_range(highest, lowest):
        return 0.0
    return 100.0 * ((close - lowest) / (highest - lowest))


class FastStochastic(MultiOutputIndicator):
    """``talib.STOCHF``: fast %K and its ``fastd_period`` average, fast %D."""

    __slots__ = ("fastk_period", "fastd_period", "fastd_matype", "_range", "_fast_d")
    inputs = ("high", "low", "close")
    outputs = ("fastk", "fastd")
    parameters = (Period("fastk_period", 5), Period("fastd_period", 3), MovingAverageType("fastd_matype", 0))

    def _reset(self) -> None:
        super()._reset()
        self._range = RollingRange(self.fastk_period)
        self._fast_d = moving_average(matype=self.fastd_matype, timeperiod=self.fastd_period)

    def update(self, high: float, low: float, close: float) -> None:
        window = self._range
        window.update(high, low)
        if not window.ready:
            return
        k = fast_k(window.highest, window.lowest, close)
        fast_d = self._fast_d
        fast_d.update(k)
        if fast_d.ready:
            self._values = (k, fast_d.value)


class SlowStochastic(MultiOutputIndicator):
    """``talib.STOCH``: slow %K (an average of fast %K) and slow %D (an average of slow %K).

    >>> stochastic = SlowStochastic(fastk_period=2, slowk_period=2, slowd_period=1)
    >>> for high, low, close in [(10.0, 8.0, 9.0), (11.0, 9.0, 11.0), (12.0, 10.0, 11.0)]:
    ...     stochastic.update(high, low, close)
    >>> stochastic.values
    (83.33333333333333, 83.33333333333333)
    """

    __slots__ = ("fastk_period", "slowk_period", "slowk_matype", "slowd_period", "slowd_matype",
                 "_range", "_slow_k", "_slow_d")
    inputs = ("high", "low", "close")
    outputs = ("slowk", "slowd")
    parameters = (Period("fastk_period", 5), Period("slowk_period", 3), MovingAverageType("slowk_matype", 0),
                  Period("slowd_period", 3), MovingAverageType("slowd_matype", 0))

    def _reset(self) -> None:
        super()._reset()
        self._range = RollingRange(self.fastk_period)
        self._slow_k = self._average(self.slowk_matype, self.slowk_period)
        self._slow_d = self._average(self.slowd_matype, self.slowd_period)

    @staticmethod
    def _average(matype: int, timeperiod: int) -> Indicator:
        """The moving average that smooths %K (and then %D): TA-Lib's ``MA(timeperiod, matype)``."""
        return moving_average(matype=matype, timeperiod=timeperiod)

    def update(self, high: float, low: float, close: float) -> None:
        window = self._range
        window.update(high, low)
        if not window.ready:
            return
        slow_k = self._slow_k
        slow_k.update(fast_k(window.highest, window.lowest, close))
        if not slow_k.ready:
            return
        slow_d = self._slow_d
        slow_d.update(slow_k.value)
        if slow_d.ready:
            self._values = self._lines(slow_k.value, slow_d.value)

    def _lines(self, slow_k: float, slow_d: float) -> tuple[float, ...]:
        """The outputs, from slow %K and slow %D."""
        return (slow_k, slow_d)


class StochasticRelativeStrength(MultiOutputIndicator):
    """``talib.STOCHRSI``: fast %K and fast %D of the ``timeperiod`` RSI.

    >>> stochastic = StochasticRelativeStrength(timeperiod=2, fastk_period=2, fastd_period=1)
    >>> for close in [10.0, 11.0, 10.0, 12.0]:
    ...     stochastic.update(close)
    >>> stochastic.values
    (100.0, 100.0)
    """

    __slots__ = ("timeperiod", "fastk_period", "fastd_period", "fastd_matype", "_rsi", "_stochastic")
    outputs = ("fastk", "fastd")
    parameters = (Period("timeperiod", 14, minimum=2), Period("fastk_period", 5), Period("fastd_period", 3),
                  MovingAverageType("fastd_matype", 0))

    def _reset(self) -> None:
        super()._reset()
        self._rsi = WilderRelativeStrengthIndex(timeperiod=self.timeperiod)
        self._stochastic = FastStochastic(fastk_period=self.fastk_period, fastd_period=self.fastd_period,
                                          fastd_matype=self.fastd_matype)

    def update(self, close: float) -> None:
        rsi = self._rsi
        rsi.update(close)
        if rsi.ready:
            strength = rsi.value
            stochastic = self._stochastic
            stochastic.update(strength, strength, strength)
            self._values = stochastic.values


TALIB_FUNCTIONS: dict[str, type] = {
    "STOCH": SlowStochastic,
    "STOCHF": FastStochastic,
    "STOCHRSI": StochasticRelativeStrength,
}
