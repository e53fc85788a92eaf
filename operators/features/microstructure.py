"""Market microstructure from best quotes and trades.

Quote measures are pure functions of one best bid/offer (``mid``, ``spread``, ``spread_bps``,
``microprice``, ``quote_imbalance``); every one returns NaN instead of dividing by zero.

Stateful measures keep a rolling event-time window ``(now - window_ns, now]`` with running
sums (:class:`operators.features.rolling.EventTimeSums`), so an update is O(1) amortised and
the state holds only the window:

- ``OrderFlowImbalance``: Cont, Kukanov & Stoikov (2014). Each quote after the first gives

  ``e_n = 1[b_n >= b_{n-1}] q^b_n - 1[b_n <= b_{n-1}] q^b_{n-1}
  - 1[a_n <= a_{n-1}] q^a_n + 1[a_n >= a_{n-1}] q^a_{n-1}``

  (b/a best bid/ask prices, q sizes): positive when bids build or asks are taken away.
  ``total`` is the sum of ``e_n`` over the window in shares; ``value`` divides it by the mean
  depth ``(q^b + q^a) / 2`` of the quotes in the window, which makes it scale free (CKS
  show price changes are roughly linear in OFI / depth).
- ``TradeSideClassifier``: the trade's aggressor side by the quote rule against the latest
  mid (above: buy, below: sell), falling back at the mid, or without a quote, to the tick
  rule (up-tick: buy, down-tick: sell, zero-tick: the side of the last non-zero tick).
- ``SignedVolumeImbalance``: ``(buy volume - sell volume) / (buy + sell)`` over the window;
  trades whose side stays unknown count in neither.

>>> microprice(100.0, 100.02, 300.0, 100.0)
100.015
>>> flow = OrderFlowImbalance(window_ns=10_000_000_000)
>>> flow.update(0, 100.0, 100.02, 300.0, 100.0)
>>> flow.update(1, 100.01, 100.02, 200.0, 100.0)  # bid steps up: +200 shares of demand
>>> flow.total
200.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from operators.features.rolling import EventTimeSums
from operators.messages import Side

NAN = math.nan


def mid(bid: float, ask: float) -> float:
    """Mid price ``(bid + ask) / 2``."""
    return 0.5 * (bid + ask)


def spread(bid: float, ask: float) -> float:
    """Quoted spread ``ask - bid`` (zero when locked, negative when crossed)."""
    return ask - bid


def spread_bps(bid: float, ask: float) -> float:
    """Spread in basis points of the mid; NaN when the mid is not positive."""
    middle = 0.5 * (bid + ask)
    return (ask - bid) / middle * 1e4 if middle > 0.0 else NAN


def microprice(bid: float, ask: float, bid_size: float, ask_size: float) -> float:
    """Size-weighted mid ``(bid * ask_size + ask * bid_size) / (bid_size + ask_size)``; NaN if no size."""
    depth = bid_size + ask_size
    return (bid * ask_size + ask * bid_size) / depth if depth > 0.0 else NAN


def quote_imbalance(bid_size: float, ask_size: float) -> float:
    """``(bid_size - ask_size) / (bid_size + ask_size)`` in [-1, 1]; NaN if no size."""
    depth = bid_size + ask_size
    return (bid_size - ask_size) / depth if depth > 0.0 else NAN


def order_flow_event(
    bid: float, ask: float, bid_size: float, ask_size: float,
    previous_bid: float, previous_ask: float, previous_bid_size: float, previous_ask_size: float,
) -> float:
    """One Cont-Kukanov-Stoikov OFI event ``e_n`` from two consecutive best quotes."""
    event = 0.0
    if bid >= previous_bid:
        event += bid_size
    if bid <= previous_bid:
        event -= previous_bid_size
    if ask <= previous_ask:
        event -= ask_size
    if ask >= previous_ask:
        event += previous_ask_size
    return event


class _WindowedMeasure:
    """A measure over the two running sums of an event-time window (``EventTimeSums``)."""

    __slots__ = ("_window",)

    def __init__(self, window_ns: int = 10_000_000_000) -> None:
        self._window = EventTimeSums(window_ns)
        self._reset()

    def _reset(self) -> None:
        self._window.reset()

    def reset(self) -> None:
        self._reset()

    @property
    def window_ns(self) -> int:
        return self._window.window_ns

    @property
    def times(self) -> Sequence[int]:
        """Times of the events in the window, oldest first."""
        return self._window.times

    def advance(self, ts_ns: int) -> None:
        """Drop the events at or before ``ts_ns - window_ns``."""
        self._window.advance(ts_ns)


class OrderFlowImbalance(_WindowedMeasure):
    """CKS order-flow imbalance summed over a rolling event-time window, normalised by depth.

    The window sums the OFI events and the depths of the quotes behind them.
    """

    __slots__ = ("_previous",)

    def _reset(self) -> None:
        super()._reset()
        self._previous: tuple[float, float, float, float] | None = None

    @property
    def ready(self) -> bool:
        """True while the window holds at least one event."""
        return bool(self._window)

    @property
    def total(self) -> float:
        """Sum of OFI events in the window, in shares (NaN when the window is empty)."""
        return self._window.first if self._window else NAN

    @property
    def value(self) -> float:
        """``total`` divided by the mean quoted depth in the window; NaN if empty or no depth."""
        window = self._window
        if not window or window.second <= 0.0:
            return NAN
        return window.first * len(window) / window.second

    def update(self, ts_ns: int, bid: float, ask: float, bid_size: float, ask_size: float) -> None:
        previous = self._previous
        self._previous = (bid, ask, bid_size, ask_size)
        if previous is not None:
            self._window.add(ts_ns, order_flow_event(bid, ask, bid_size, ask_size, *previous),
                             0.5 * (bid_size + ask_size))
        self._window.advance(ts_ns)


class TradeSideClassifier:
    """Infers the aggressor side of trades whose side is unknown (quote rule, tick rule fallback).

    >>> classifier = TradeSideClassifier()
    >>> classifier.update(100.0), classifier.update(100.01), classifier.update(100.01)
    ('unknown', 'buy', 'buy')
    >>> classifier.update(100.0, mid=99.99)
    'buy'
    """

    __slots__ = ("_previous_price", "_tick_side", "_side")

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._previous_price = NAN
        self._tick_side: Side = "unknown"
        self._side: Side = "unknown"

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        """True once a trade price has been seen (the tick rule has a reference)."""
        return self._previous_price == self._previous_price

    @property
    def value(self) -> Side:
        """The side given to the latest trade."""
        return self._side

    def update(self, price: float, mid: float = NAN) -> Side:
        """Classify a trade at ``price`` given the latest mid (NaN if no quote yet)."""
        previous = self._previous_price
        if price > previous:
            self._tick_side = "buy"
        elif price < previous:
            self._tick_side = "sell"
        self._previous_price = price
        if price > mid:
            side: Side = "buy"
        elif price < mid:
            side = "sell"
        else:  # at the mid, or no quote (comparisons with NaN are False)
            side = self._tick_side
        self._side = side
        return side


class SignedVolumeImbalance(_WindowedMeasure):
    """``(buy - sell) / (buy + sell)`` volume over a rolling event-time window.

    >>> imbalance = SignedVolumeImbalance(window_ns=10)
    >>> imbalance.update(1, 300.0, "buy")
    >>> imbalance.update(2, 100.0, "sell")
    >>> imbalance.value
    0.5
    >>> imbalance.advance(11)  # the buy at ts 1 leaves the window (1 <= 11 - 10)
    >>> imbalance.value
    -1.0
    """

    __slots__ = ()

    @property
    def ready(self) -> bool:
        return self._window.second > 0.0

    @property
    def value(self) -> float:
        volume = self._window.second
        if not volume > 0.0:
            return NAN
        imbalance = self._window.first / volume
        return 1.0 if imbalance > 1.0 else -1.0 if imbalance < -1.0 else imbalance

    def update(self, ts_ns: int, size: float, side: Side) -> None:
        if side == "buy":
            self._window.add(ts_ns, size, size)
        elif side == "sell":
            self._window.add(ts_ns, -size, size)
        self._window.advance(ts_ns)
