"""Activity bars: tick, volume and dollar bars from trades (López de Prado, AFML ch. 2).

A bar closes on the trade that brings its trade count, volume or traded notional to the
threshold or beyond; that trade belongs to the closing bar (trades are never split across
bars, so a block print can make one bar much bigger than the threshold). ``start_ns`` is the
first trade's time and ``end_ns`` the closing trade's time, both inclusive. Each completed bar
carries OHLC, volume, VWAP, trade count and buy/sell volume, like a time bar
(:class:`operators.features.bars.Bar`).

>>> bars = VolumeBarBuilder(volume_per_bar=300.0)
>>> bars.update(1, 10.0, 100.0, "buy") is None
True
>>> bar = bars.update(2, 11.0, 250.0, "sell")
>>> bar.open, bar.close, bar.volume, bar.trade_count, bar.buy_volume, bar.sell_volume
(10.0, 11.0, 350.0, 2, 100.0, 250.0)
"""

from __future__ import annotations

import math

from operators.features.bars import Bar, BarAccumulator
from operators.messages import Side


class _ActivityBarBuilder(BarAccumulator):
    """Shared accumulation; subclasses say how much a trade counts towards the threshold."""

    __slots__ = ("threshold", "_end_ns", "_progress")

    def __init__(self, threshold: float, name: str) -> None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold < math.inf:
            raise ValueError(f"{name} must be a positive finite number, got {threshold!r}")
        self.threshold = float(threshold)
        self._reset()

    def _reset(self) -> None:
        self._start_ns: int | None = None
        self._end_ns = 0
        self._progress = 0.0
        self._clear()

    def _weight(self, price: float, size: float) -> float:
        raise NotImplementedError

    def update(self, ts_ns: int, price: float, size: float, side: Side) -> Bar | None:
        """Add one trade; return the bar it completes, if any."""
        if self._start_ns is None:
            self._start_ns = ts_ns
            self._open_bar(price)
        self._end_ns = ts_ns
        self._add(price, size, side)
        self._progress += self._weight(price, size)
        if self._progress < self.threshold:
            return None
        return self.flush()

    def _finish(self) -> None:
        self._reset()

    def _snapshot(self) -> Bar:
        assert self._start_ns is not None
        return self._bar(self._start_ns, self._end_ns)


class TickBarBuilder(_ActivityBarBuilder):
    """A bar every ``ticks_per_bar`` trades."""

    __slots__ = ()

    def __init__(self, ticks_per_bar: int) -> None:
        if isinstance(ticks_per_bar, bool) or not isinstance(ticks_per_bar, int) or ticks_per_bar < 1:
            raise ValueError(f"ticks_per_bar must be an integer >= 1, got {ticks_per_bar!r}")
        super().__init__(float(ticks_per_bar), "ticks_per_bar")

    def _weight(self, price: float, size: float) -> float:
        return 1.0


class VolumeBarBuilder(_ActivityBarBuilder):
    """A bar every ``volume_per_bar`` shares (or contracts) traded."""

    __slots__ = ()

    def __init__(self, volume_per_bar: float) -> None:
        super().__init__(volume_per_bar, "volume_per_bar")

    def _weight(self, price: float, size: float) -> float:
        return size


class DollarBarBuilder(_ActivityBarBuilder):
    """A bar every ``dollars_per_bar`` of traded notional (price x size)."""

    __slots__ = ()

    def __init__(self, dollars_per_bar: float) -> None:
        super().__init__(dollars_per_bar, "dollars_per_bar")

    def _weight(self, price: float, size: float) -> float:
        return price * size
