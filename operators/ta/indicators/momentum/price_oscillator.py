"""Price oscillators: ``talib.APO`` (fast average minus slow) and ``talib.PPO`` (the same in
percent of the slow average).

Both averages are of TA-Lib moving-average type ``matype`` (EMA by default, as in TA-Lib 0.8)
and, unlike MACD's, both start on the first close. If ``slowperiod`` is shorter than
``fastperiod`` the two are swapped, as TA-Lib does. PPO is 0.0 when the slow average is within
``1e-14`` of zero (``TA_IS_ZERO``).

>>> oscillator = AbsolutePriceOscillator(fastperiod=2, slowperiod=3, matype=0)
>>> for close in [1.0, 2.0, 4.0]:
...     oscillator.update(close)
>>> oscillator.value
0.6666666666666665
"""

from __future__ import annotations

from operators.ta.base import Indicator, MovingAverageType, Period, is_zero
from operators.ta.indicators.overlap import moving_average


class _PriceOscillator(Indicator):
    """Shared settings and averages; subclasses say how fast and slow combine."""

    __slots__ = ("fastperiod", "slowperiod", "matype", "_fast", "_slow")
    parameters = (Period("fastperiod", 12, minimum=2), Period("slowperiod", 26, minimum=2),
                  MovingAverageType("matype", 1))

    def _reset(self) -> None:
        super()._reset()
        fast, slow = sorted((self.fastperiod, self.slowperiod))
        self._fast = moving_average(matype=self.matype, timeperiod=fast)
        self._slow = moving_average(matype=self.matype, timeperiod=slow)

    def update(self, close: float) -> None:
        slow = self._slow
        self._fast.update(close)
        slow.update(close)
        if slow.ready:
            self._value = self._combine(self._fast.value, slow.value)

    @staticmethod
    def _combine(fast: float, slow: float) -> float:
        raise NotImplementedError


class AbsolutePriceOscillator(_PriceOscillator):
    """``talib.APO``: ``fast - slow``."""

    __slots__ = ()

    @staticmethod
    def _combine(fast: float, slow: float) -> float:
        return fast - slow


class PercentagePriceOscillator(_PriceOscillator):
    """``talib.PPO``: ``(fast - slow) / slow * 100``.

    >>> oscillator = PercentagePriceOscillator(fastperiod=2, slowperiod=4, matype=0)
    >>> for close in [1.0, 1.0, 3.0, 3.0]:
    ...     oscillator.update(close)
    >>> oscillator.value
    50.0
    """

    __slots__ = ()

    @staticmethod
    def _combine(fast: float, slow: float) -> float:
        return 0.0 if is_zero(slow) else (fast - slow) / slow * 100.0


TALIB_FUNCTIONS: dict[str, type] = {"APO": AbsolutePriceOscillator, "PPO": PercentagePriceOscillator}
