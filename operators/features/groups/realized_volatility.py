"""Realized volatility of 1-minute bars: five estimators over the last ``window`` bars.

Each feature is the square root of a per-bar variance of
:class:`operators.features.realized_variance.RealizedVariance` (negative range estimates, which
small windows can give, count as zero); NaN until the window is full.

>>> group = RealizedVolatility(window=2)
>>> for open_, high, low, close in [(100.0, 101.0, 99.0, 100.5), (100.5, 102.0, 100.0, 101.5),
...                                 (101.5, 103.0, 101.0, 102.0)]:
...     group.on_minute_bar(Bar(0, 0, open_, high, low, close, 1.0, close, 1, 0.0, 0.0))
>>> round(dict(zip(group.names, group.values(0)))["realized_volatility_parkinson_1m"], 6)
0.011835
"""

from __future__ import annotations

import math

from operators.features.bars import Bar
from operators.features.groups.base import MINUTE_BAR, NAN, FeatureGroup, feature
from operators.features.realized_variance import RealizedVariance


class RealizedVolatility(FeatureGroup):
    """Close-to-close, Parkinson, Garman-Klass, Rogers-Satchell and Yang-Zhang volatility."""

    __slots__ = ("_variance",)

    def __init__(self, window: int) -> None:
        self._variance = RealizedVariance(window)

    def on_minute_bar(self, bar: Bar) -> None:
        self._variance.update(bar.open, bar.high, bar.low, bar.close)

    @feature(MINUTE_BAR)
    def realized_volatility_close_1m(self, now_ns: int) -> float:
        """close-to-close realized volatility of 1 min bars"""
        return math.sqrt(self._variance.close_to_close) if self._variance.ready else NAN

    @feature(MINUTE_BAR)
    def realized_volatility_parkinson_1m(self, now_ns: int) -> float:
        """Parkinson (high-low) volatility of 1 min bars"""
        return math.sqrt(self._variance.parkinson) if self._variance.ready else NAN

    @feature(MINUTE_BAR)
    def realized_volatility_garman_klass_1m(self, now_ns: int) -> float:
        """Garman-Klass (OHLC) volatility of 1 min bars"""
        return math.sqrt(max(0.0, self._variance.garman_klass)) if self._variance.ready else NAN

    @feature(MINUTE_BAR)
    def realized_volatility_rogers_satchell_1m(self, now_ns: int) -> float:
        """Rogers-Satchell (drift-independent) volatility of 1 min bars"""
        return math.sqrt(max(0.0, self._variance.rogers_satchell)) if self._variance.ready else NAN

    @feature(MINUTE_BAR)
    def realized_volatility_yang_zhang_1m(self, now_ns: int) -> float:
        """Yang-Zhang volatility of 1 min bars"""
        return math.sqrt(max(0.0, self._variance.yang_zhang)) if self._variance.ready else NAN
