"""Depth features of one symbol's rebuilt book, updated incrementally with every book change.

:class:`DepthFeatures` follows an :class:`~operators.book.book.OrderBook`: call ``on_book(book,
ts_ns)`` after each applied snapshot or delta, ``on_trade(ts_ns, size)`` for each trade, and
``values(book, ts_ns)`` when a feature row is due. The features (``DEPTH_FEATURES``):

==============================  ===============================================================
depth_imbalance_l{1,5,10}       ``(B - A) / (B + A)`` of the bid and ask sizes of the best 1/5/10
                                levels
depth_{bid,ask}_{5,10,25}bps    size resting within 5/10/25 bps of the mid, per side
book_slope_{bid,ask}            how fast depth builds away from the mid: the least-squares slope
                                (through 0) of cumulative size over distance in bps, best 10
                                levels (Naes & Skjeltorp 2006)
mlofi_l{1..5}                   multi-level order-flow imbalance (Xu, Gould & Howison 2019: Cont-
                                Kukanov-Stoikov at each of the best 5 levels), decayed with a 10 s
                                half-life and divided by the level's decayed mean depth
microprice_dev_bps_l{1,5}       the microprice ``(bid * A_k + ask * B_k) / (A_k + B_k)`` with the
                                best 1 / 5 levels' sizes, minus the mid, in bps
trade_share_10s                 of the size taken from the best 10 levels (10 s half-life), the
                                share that trades explain; the rest was cancelled
book_valid                      1 while the book is valid, else 0 (every other feature is NaN)
==============================  ===============================================================

The per-update work is O(changed levels + 5): the level-wise OFI and the removed size; the depth
walks (bps bands, slope) run only in ``values``, once per feature row. Decay is exact in event
time (``2 ** (-dt / half_life)``), so a replay gives the same values, and the state is one
``array('d')`` plus three scalars: it pickles as one buffer.

>>> from operators.book.book import OrderBook
>>> from operators.messages import BookSnapshot
>>> book, features = OrderBook("X"), DepthFeatures()
>>> _ = book.apply(BookSnapshot("X", 0, 1, ((100.0, 3.0), (99.9, 1.0)), ((100.1, 1.0), (100.2, 5.0))))
>>> features.on_book(book, 0)
>>> values = dict(zip(DEPTH_FEATURES, features.values(book, 0)))
>>> values["depth_imbalance_l1"], values["depth_imbalance_l5"], round(values["microprice_dev_bps_l1"], 3)
(0.5, -0.2, 2.499)
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right

from operators.book.book import OrderBook, Side

NAN = math.nan
LEVELS = (1, 5, 10)
BANDS_BPS = (5, 10, 25)
OFI_LEVELS = 5
SLOPE_LEVELS = 10
HALF_LIFE_NS = 10 * 1_000_000_000
DEPTH_FEATURES = (
    *(f"depth_imbalance_l{k}" for k in LEVELS),
    *(f"depth_{side}_{band}bps" for band in BANDS_BPS for side in ("bid", "ask")),
    "book_slope_bid", "book_slope_ask",
    *(f"mlofi_l{m}" for m in range(1, OFI_LEVELS + 1)),
    "microprice_dev_bps_l1", "microprice_dev_bps_l5",
    "trade_share_10s", "book_valid",
)

# layout of the state array
_PREV = 0  # previous best levels: bid price, bid size, ask price, ask size for each of OFI_LEVELS
_OFI = _PREV + 4 * OFI_LEVELS  # decayed OFI per level
_DEPTH = _OFI + OFI_LEVELS  # decayed mean depth per level (numerator)
_WEIGHT = _DEPTH + OFI_LEVELS  # decayed count of updates (denominator of the mean depth)
_REMOVED = _WEIGHT + 1
_TRADED = _REMOVED + 1
_SIZE = _TRADED + 1


def _sizes(side: Side, k: int) -> float:
    return sum(side.sizes[:k])


def _imbalance(bids: float, asks: float) -> float:
    total = bids + asks
    return (bids - asks) / total if total > 0.0 else NAN


def _band(side: Side, mid: float, bps: float) -> float:
    """Size of the levels within ``bps`` of ``mid`` (keys ascend away from the mid on both sides)."""
    edge = side.sign * mid * (1.0 + side.sign * bps * 1e-4)
    return sum(side.sizes[:bisect_right(side.keys, edge)])


def _slope(side: Side, mid: float) -> float:
    cumulative = numerator = denominator = 0.0
    for i in range(min(SLOPE_LEVELS, len(side))):
        distance = abs(side.price(i) - mid) / mid * 1e4
        cumulative += side.sizes[i]
        numerator += cumulative * distance
        denominator += distance * distance
    return numerator / denominator if denominator > 0.0 else NAN


def _level_ofi(new_price: float, new_size: float, old_price: float, old_size: float, bid: bool) -> float:
    """Cont-Kukanov-Stoikov flow at one level: size joining the side minus size leaving it."""
    if math.isnan(old_price) or math.isnan(new_price):
        return 0.0
    better = new_price > old_price if bid else new_price < old_price
    if new_price == old_price:
        return new_size - old_size
    return new_size if better else -old_size


class DepthFeatures:
    """Incremental depth features of one book (see the module docstring)."""

    __slots__ = ("_state", "_ts_ns", "_valid")

    def __init__(self) -> None:
        self._state = array("d", [NAN] * (4 * OFI_LEVELS) + [0.0] * (_SIZE - _OFI))
        self._ts_ns = -1
        self._valid = False

    def __getstate__(self) -> tuple[bytes, int, bool]:
        return self._state.tobytes(), self._ts_ns, self._valid

    def __setstate__(self, state: tuple[bytes, int, bool]) -> None:
        buffer, self._ts_ns, self._valid = state
        self._state = array("d")
        self._state.frombytes(buffer)

    def _decay(self, ts_ns: int) -> None:
        if self._ts_ns >= 0 and ts_ns > self._ts_ns:
            factor = 2.0 ** (-(ts_ns - self._ts_ns) / HALF_LIFE_NS)
            state = self._state
            for i in range(_OFI, _SIZE):
                state[i] *= factor
        self._ts_ns = max(self._ts_ns, ts_ns)

    def on_trade(self, ts_ns: int, size: float) -> None:
        self._decay(ts_ns)
        if math.isfinite(size) and size > 0.0:
            self._state[_TRADED] += size

    def on_book(self, book: OrderBook, ts_ns: int, delta: bool = True) -> None:
        """After ``book`` applied a message stamped ``ts_ns``; ``delta`` False for a snapshot."""
        self._decay(ts_ns)
        state = self._state
        if not book.valid:
            self._valid = False
            state[_PREV:_OFI] = array("d", [NAN] * (4 * OFI_LEVELS))
            return
        bids, asks = book.bids, book.asks
        if delta and self._valid:
            state[_REMOVED] += book.removed_near
        bid_count, ask_count = len(bids), len(asks)
        bid_keys, bid_sizes, ask_keys, ask_sizes = bids.keys, bids.sizes, asks.keys, asks.sizes
        for m in range(OFI_LEVELS):
            base = _PREV + 4 * m
            bid_price, bid_size = (-bid_keys[m], bid_sizes[m]) if m < bid_count else (NAN, 0.0)
            ask_price, ask_size = (ask_keys[m], ask_sizes[m]) if m < ask_count else (NAN, 0.0)
            state[_OFI + m] += (_level_ofi(bid_price, bid_size, state[base], state[base + 1], True)
                                - _level_ofi(ask_price, ask_size, state[base + 2], state[base + 3], False))
            state[_DEPTH + m] += 0.5 * (bid_size + ask_size)
            state[base] = bid_price
            state[base + 1] = bid_size
            state[base + 2] = ask_price
            state[base + 3] = ask_size
        state[_WEIGHT] += 1.0
        self._valid = True

    def values(self, book: OrderBook, ts_ns: int) -> tuple[float, ...]:
        """The ``DEPTH_FEATURES`` at ``ts_ns`` from ``book`` as it stands: all NaN but ``book_valid``
        (0) while the book is invalid, and NaN before it has both sides."""
        self._decay(ts_ns)
        if not book.valid:
            return (NAN,) * (len(DEPTH_FEATURES) - 1) + (0.0,)
        if not self._valid or not len(book.bids) or not len(book.asks):
            return (NAN,) * len(DEPTH_FEATURES)
        bids, asks, state = book.bids, book.asks, self._state
        mid = 0.5 * (bids.price(0) + asks.price(0))
        bands = []
        for bps in BANDS_BPS:
            bands += [_band(bids, mid, bps), _band(asks, mid, bps)]
        microprice = []
        for k in (1, 5):
            b, a = _sizes(bids, k), _sizes(asks, k)
            price = (bids.price(0) * a + asks.price(0) * b) / (a + b)
            microprice.append((price - mid) / mid * 1e4)
        weight = state[_WEIGHT]
        ofi = [state[_OFI + m] / (state[_DEPTH + m] / weight) if weight > 0.0 and state[_DEPTH + m] > 0.0 else NAN
               for m in range(OFI_LEVELS)]
        removed = state[_REMOVED]
        return (*(_imbalance(_sizes(bids, k), _sizes(asks, k)) for k in LEVELS), *bands,
                _slope(bids, mid), _slope(asks, mid), *ofi, *microprice,
                min(1.0, state[_TRADED] / removed) if removed > 0.0 else NAN, 1.0)
