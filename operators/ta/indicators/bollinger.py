"""Bollinger bands and %B over a fixed window, matching ``talib.BBANDS`` (SMA, population std).

The window lives in a ring buffer; the mean and the sum of squared deviations are updated in
O(1) per input with the rolling Welford recurrence (adding the new value and removing the one
it replaces), which is far less prone to cancellation than a rolling sum of squares. To bound
float drift over long streams both are recomputed exactly from the buffer every
``RESYNC_INTERVAL`` updates (O(period) once in that many updates, so still O(1) amortised).

``value`` is %B: ``(close - lower) / (upper - lower)``; 0.5 is the middle band. It is NaN
while the window is filling and when the bands have zero width (TA-Lib treats a variance
below 1e-14 as zero; so do we).

>>> bands = BollingerPercentB(period=3, width=2.0)
>>> for close in [1.0, 2.0, 3.0]:
...     bands.update(close)
>>> round(bands.value, 6), round(bands.middle, 6)
(0.806186, 2.0)
"""

from __future__ import annotations

import math

from operators.ta.indicators.base import require_period

RESYNC_INTERVAL = 1024


class BollingerPercentB:
    """%B over ``period`` closes with bands ``width`` population standard deviations wide."""

    __slots__ = ("period", "width", "_window", "_position", "_count", "_mean", "_squared_deviations", "_since_resync", "_last")

    def __init__(self, period: int = 20, width: float = 2.0) -> None:
        require_period("period", period, minimum=2)
        if not (isinstance(width, (int, float)) and not isinstance(width, bool) and 0.0 < width < math.inf):
            raise ValueError(f"width must be a positive finite number of standard deviations, got {width!r}")
        self.period = period
        self.width = width
        self._reset()

    def _reset(self) -> None:
        self._window = [0.0] * self.period
        self._position = 0
        self._count = 0
        self._mean = 0.0
        self._squared_deviations = 0.0
        self._since_resync = 0
        self._last = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._count >= self.period

    @property
    def middle(self) -> float:
        return self._mean if self._count >= self.period else math.nan

    @property
    def standard_deviation(self) -> float:
        if self._count < self.period:
            return math.nan
        variance = self._squared_deviations / self.period
        return math.sqrt(variance) if variance >= 1e-14 else 0.0

    @property
    def upper(self) -> float:
        return self.middle + self.width * self.standard_deviation

    @property
    def lower(self) -> float:
        return self.middle - self.width * self.standard_deviation

    @property
    def value(self) -> float:
        band = 2.0 * self.width * self.standard_deviation
        if not band > 0.0:
            return math.nan
        return (self._last - self.lower) / (self.upper - self.lower)

    def update(self, value: float) -> None:
        self._last = value
        position = self._position
        self._position = position + 1 if position + 1 < self.period else 0
        if self._count < self.period:
            self._window[position] = value
            self._count += 1
            delta = value - self._mean
            self._mean += delta / self._count
            self._squared_deviations += delta * (value - self._mean)
            return
        removed = self._window[position]
        self._window[position] = value
        self._since_resync += 1
        if self._since_resync >= RESYNC_INTERVAL:
            self._resync()
            return
        previous_mean = self._mean
        delta = value - removed
        self._mean = previous_mean + delta / self.period
        self._squared_deviations += delta * (value - self._mean + removed - previous_mean)
        if self._squared_deviations < 0.0:
            self._squared_deviations = 0.0

    def _resync(self) -> None:
        """Recompute mean and squared deviations exactly (two passes over the window)."""
        self._since_resync = 0
        mean = math.fsum(self._window) / self.period
        self._mean = mean
        self._squared_deviations = math.fsum((x - mean) * (x - mean) for x in self._window)
