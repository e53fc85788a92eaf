"""Highest and lowest value over the last ``period`` updates, O(1) amortised.

Two monotonic deques of ``(bar, value)``: a new value drops every older one it dominates, and
entries older than the window fall off the front. The state never exceeds ``period`` entries
per deque. Used by the stochastic family and SMI.

>>> extremes = RollingExtremes(period=3)
>>> for high, low in [(5.0, 1.0), (7.0, 2.0), (6.0, 3.0), (4.0, 3.5)]:
...     extremes.update(high, low)
>>> extremes.highest, extremes.lowest
(7.0, 2.0)
"""

from __future__ import annotations

from collections import deque

from operators.ta.indicators.base import require_period


class RollingExtremes:
    """Max of the highs and min of the lows over the last ``period`` bars; ``full`` once warm."""

    __slots__ = ("period", "_bar", "_highs", "_lows")

    def __init__(self, period: int) -> None:
        require_period("period", period)
        self.period = period
        self._reset()

    def _reset(self) -> None:
        self._bar = -1
        self._highs: deque[tuple[int, float]] = deque()
        self._lows: deque[tuple[int, float]] = deque()

    def reset(self) -> None:
        self._reset()

    @property
    def full(self) -> bool:
        return self._bar + 1 >= self.period

    @property
    def highest(self) -> float:
        return self._highs[0][1]

    @property
    def lowest(self) -> float:
        return self._lows[0][1]

    def update(self, high: float, low: float) -> None:
        self._bar = bar = self._bar + 1
        oldest = bar - self.period
        highs, lows = self._highs, self._lows
        while highs and highs[-1][1] <= high:
            highs.pop()
        highs.append((bar, high))
        if highs[0][0] <= oldest:
            highs.popleft()
        while lows and lows[-1][1] >= low:
            lows.pop()
        lows.append((bar, low))
        if lows[0][0] <= oldest:
            lows.popleft()
