"""Price oscillators: ``talib.APO`` (fast average minus slow) and ``talib.PPO`` (the same in
percent of the slow average).

Both averages are of TA-Lib moving-average type ``matype`` (EMA by default, as in TA-Lib 0.8)
and, unlike MACD's, both start on the first close. If ``slowperiod`` is shorter than ``fastperiod`` the two are swapped, as
TA-Lib does. PPO is 0.0 when the slow average is within ``1e-14`` of zero (``TA_IS_ZERO``).

>>> oscillator = AbsolutePriceOscillator(fastperiod=2, slowperiod=3, matype=0)
>>> for close in [1.0, 2.0, 4.0]:
...     oscillator.update(close)
>>> oscillator.value
0.6666666666666665
"""

from __future__ import annotations

import math
from typing import ClassVar

from operators.ta.indicators.base import is_zero, require_period
from operators.ta.indicators.momentum._parameters import require_moving_average_type
from operators.ta.indicators.overlap import moving_average


class _PriceOscillator:
    """Shared settings, averages and contract; subclasses say how fast and slow combine."""

    __slots__ = ("fastperiod", "slowperiod", "matype", "_fast", "_slow", "_value")

    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, fastperiod: int = 12, slowperiod: int = 26, matype: int = 1) -> None:
        require_period("fastperiod", fastperiod, minimum=2)
        require_period("slowperiod", slowperiod, minimum=2)
        require_moving_average_type("matype", matype)
        self.fastperiod = fastperiod
        self.slowperiod = slowperiod
        self.matype = matype
        self._reset()

    def _reset(self) -> None:
        fast, slow = sorted((self.fastperiod, self.slowperiod))
        self._fast = moving_average(self.matype, fast)
        self._slow = moving_average(self.matype, slow)
        self._value = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._slow.ready

    @property
    def value(self) -> float:
        return self._value

    @property
    def values(self) -> tuple[float, ...]:
        return (self._value,)

    def update(self, close: float) -> None:
        self._fast.update(close)
        self._slow.update(close)
        if self._slow.ready:
            self._value = self._combine(self._fast.value, self._slow.value)

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
