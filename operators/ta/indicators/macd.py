"""Moving average convergence/divergence as ``talib.MACD`` computes it.

MACD is ``EMA(fast) - EMA(slow)`` and the signal line is an EMA of MACD. Like TA-Lib, the fast
EMA is started so that it seeds on the same bar as the slow one (it skips the first
``slow_period - fast_period`` inputs), and nothing is reported until the signal line is
seeded: ``slow_period + signal_period - 1`` inputs.

>>> macd = MovingAverageConvergenceDivergence(fast_period=2, slow_period=3, signal_period=2)
>>> for close in [1.0, 2.0, 3.0, 4.0, 5.0]:
...     macd.update(close)
>>> macd.ready, macd.value, macd.signal, macd.histogram
(True, 0.5, 0.5, 0.0)
"""

from __future__ import annotations

import math

from operators.ta.indicators.base import require_period
from operators.ta.indicators.ema import ExponentialMovingAverage


class MovingAverageConvergenceDivergence:
    """``value`` is the MACD line; ``signal`` and ``histogram`` alongside; all NaN until ready."""

    __slots__ = ("fast_period", "slow_period", "signal_period", "_fast", "_slow", "_signal", "_count")

    def __init__(self, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9) -> None:
        require_period("fast_period", fast_period, minimum=2)
        require_period("slow_period", slow_period, minimum=2)
        require_period("signal_period", signal_period)
        if fast_period >= slow_period:
            raise ValueError(f"fast_period must be < slow_period, got fast_period={fast_period!r}, slow_period={slow_period!r}")
        self.fast_period = fast_period
        self.slow_period = slow_period
        self.signal_period = signal_period
        self._reset()

    def _reset(self) -> None:
        self._fast = ExponentialMovingAverage(self.fast_period)
        self._slow = ExponentialMovingAverage(self.slow_period)
        self._signal = ExponentialMovingAverage(self.signal_period)
        self._count = 0

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._signal.ready

    @property
    def value(self) -> float:
        if not self._signal.ready:
            return math.nan
        return self._fast.value - self._slow.value

    @property
    def signal(self) -> float:
        return self._signal.value

    @property
    def histogram(self) -> float:
        return self.value - self._signal.value

    def update(self, value: float) -> None:
        if self._count < self.slow_period:
            self._count += 1
        self._slow.update(value)
        if self._count > self.slow_period - self.fast_period:
            self._fast.update(value)
        if self._slow.ready:
            self._signal.update(self._fast.value - self._slow.value)
