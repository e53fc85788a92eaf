"""Time bars (OHLCV) built from trades in event time.

A bar covers the half-open interval ``[start_ns, start_ns + interval_ns)`` with
``start_ns = floor(ts_ns / interval_ns) * interval_ns``. The builder holds the bar in progress
and hands it back, completed, as soon as a tick shows that event time has moved past it: a
trade in a later interval (``update``) or any later tick (``advance``, e.g. a quote).

Intervals without trades produce no bar at all: the next bar simply starts later, so consumers
see only bars with at least one trade (a gap in ``start_ns`` means no trades in between).

A trade stamped before the bar in progress (upstream validation should already reject such
late ticks) never moves the clock back: it is folded into the bar in progress and counted
in ``late_trades``.

>>> builder = TimeBarBuilder(interval_ns=60_000_000_000)
>>> builder.update(10_000_000_000, 100.0, 5.0, "buy") is None
True
>>> builder.update(20_000_000_000, 102.0, 15.0, "sell") is None
True
>>> bar = builder.update(61_000_000_000, 101.0, 1.0, "unknown")
>>> bar.start_ns, bar.open, bar.high, bar.close, bar.volume, bar.vwap, bar.buy_volume
(0, 100.0, 102.0, 102.0, 20.0, 101.5, 5.0)
"""

from __future__ import annotations

import math

import msgspec

from operators.messages import Side


class Bar(msgspec.Struct, frozen=True):
    """One completed time bar. ``vwap`` is NaN only if every trade had size zero."""

    start_ns: int
    end_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float
    trade_count: int
    buy_volume: float
    sell_volume: float


class BarAccumulator:
    """OHLC, volume, notional, trade count and buy/sell volume of the trades of one bar in progress.

    The base of the bar builders: a subclass creates its state in ``_reset`` (calling ``_clear``)
    and says in ``_snapshot`` where the bar in progress starts and ends.
    """

    __slots__ = ("_start_ns", "_open", "_high", "_low", "_close", "_volume", "_notional", "_trade_count",
                 "_buy_volume", "_sell_volume")

    def _reset(self) -> None:
        raise NotImplementedError

    def _snapshot(self) -> Bar:
        raise NotImplementedError

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        """True while a bar is in progress."""
        return self._start_ns is not None

    @property
    def value(self) -> Bar | None:
        """The bar in progress as it stands now (not completed), or None."""
        return self._snapshot() if self._start_ns is not None else None

    def _finish(self) -> None:
        """Forget the bar in progress once it is handed back as completed."""
        raise NotImplementedError

    def flush(self) -> Bar | None:
        """End of input: the bar in progress (if any), completed."""
        if self._start_ns is None:
            return None
        completed = self._snapshot()
        self._finish()
        return completed

    def _clear(self) -> None:
        self._open = self._high = self._low = self._close = math.nan
        self._volume = self._notional = self._buy_volume = self._sell_volume = 0.0
        self._trade_count = 0

    def _open_bar(self, price: float) -> None:
        """Start a bar whose first trade is at ``price`` (``_add`` then adds that trade)."""
        self._open = self._high = self._low = price
        self._volume = self._notional = self._buy_volume = self._sell_volume = 0.0
        self._trade_count = 0

    def _add(self, price: float, size: float, side: Side) -> None:
        if price > self._high:
            self._high = price
        elif price < self._low:
            self._low = price
        self._close = price
        self._volume += size
        self._notional += price * size
        self._trade_count += 1
        if side == "buy":
            self._buy_volume += size
        elif side == "sell":
            self._sell_volume += size

    def _bar(self, start_ns: int, end_ns: int) -> Bar:
        volume = self._volume
        return Bar(start_ns=start_ns, end_ns=end_ns, open=self._open, high=self._high, low=self._low,
                   close=self._close, volume=volume, vwap=self._notional / volume if volume > 0.0 else math.nan,
                   trade_count=self._trade_count, buy_volume=self._buy_volume, sell_volume=self._sell_volume)


class TimeBarBuilder(BarAccumulator):
    """Builds ``interval_ns`` bars; ``update``/``advance`` return a bar when one completes."""

    __slots__ = ("interval_ns", "late_trades")

    def __init__(self, interval_ns: int) -> None:
        if isinstance(interval_ns, bool) or not isinstance(interval_ns, int) or interval_ns <= 0:
            raise ValueError(f"interval_ns must be a positive integer number of nanoseconds, got {interval_ns!r}")
        self.interval_ns = interval_ns
        self._reset()

    def _reset(self) -> None:
        self.late_trades = 0
        self._start_ns: int | None = None
        self._clear()

    def update(self, ts_ns: int, price: float, size: float, side: Side) -> Bar | None:
        """Add one trade; return the previous bar if this trade starts a later one."""
        start_ns = ts_ns - ts_ns % self.interval_ns
        completed = None
        current = self._start_ns
        if current is None or start_ns > current:
            if current is not None:
                completed = self._snapshot()
            self._start_ns = start_ns
            self._open_bar(price)
        elif start_ns < current:
            self.late_trades += 1
        self._add(price, size, side)
        return completed

    def advance(self, ts_ns: int) -> Bar | None:
        """Move event time to ``ts_ns``; return the bar in progress if that completes it."""
        current = self._start_ns
        if current is None or ts_ns - ts_ns % self.interval_ns <= current:
            return None
        return self.flush()

    def _finish(self) -> None:
        self._start_ns = None

    def _snapshot(self) -> Bar:
        start_ns = self._start_ns
        assert start_ns is not None
        return self._bar(start_ns, start_ns + self.interval_ns)
