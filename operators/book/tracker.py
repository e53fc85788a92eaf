"""A symbol's order book inside the feature step: the book, its depth features and its events.

:class:`BookTracker` is what ``operators.features.symbol.SymbolFeatures`` holds for a symbol once
the symbol's first depth message arrives (equity symbols without books never build one, so their
rows stay exactly as they were). It applies each ``BookSnapshot`` / ``BookDelta`` to an
:class:`~operators.book.book.OrderBook` under the venue's sequence rules, follows it with
:class:`~operators.book.features.DepthFeatures`, and turns the book's events into monitor events:

- a ``book_gap`` (a delta that does not continue the sequence) or ``book_crossed`` becomes a
  ``DriftEvent`` of that kind (``feature="book_valid"``, ``detector="order_book"``, ``statistic``
  the symbol's count of such events so far), so it reaches the ``monitor_events`` table, the
  ``model_events`` topic and the monitor-event counter like a drift alarm;
- while the book is invalid every depth feature is NaN, ``book_valid`` is 0, and each of their
  quality flags is ``MISSING``, until the next snapshot makes the book valid again.

Quality of the depth features on a valid book: ``WARMING_UP`` for a NaN value (one side empty, no
size removed yet), ``STALE`` when the book's last message is older than ``stale_after_ns``.

State: the book (two ``array('d')`` per side, at most ``BookConfig.max_levels`` levels), the
features' one array and a few scalars; it pickles compactly and a restored tracker continues
bit-identically.

>>> from operators.messages import BookDelta, BookSnapshot
>>> tracker = BookTracker("X")
>>> tracker.apply(BookSnapshot("X", 10, 5, ((100.0, 2.0),), ((101.0, 1.0),)))
>>> tracker.values(10)[-1], tracker.has_events
(1.0, False)
>>> tracker.apply(BookDelta("X", 20, 9, 9, ((100.0, 0.0),), ()))  # ids 6..8 are missing: a gap
>>> [(event.kind, event.statistic) for event in tracker.drain_events()], tracker.values(20)[-1]
([('book_gap', 1.0)], 0.0)
"""

from __future__ import annotations

import math

from operators.book.book import BookConfig, OrderBook
from operators.book.features import DEPTH_FEATURES, DepthFeatures
from operators.messages import BookDelta, BookSnapshot, DriftEvent

__all__ = ["DEPTH_FEATURES", "FLOW_BOOK_CONFIG", "BookTracker"]

#: The book of the live flow: the 1,000 levels a side of a Binance REST snapshot (100% of the shared
#: captures' best quotes match at that depth, ``tickwise book check``), and 100 deltas waiting for a
#: snapshot (the shared captures' REST snapshots arrive after at most 40 lines).
FLOW_BOOK_CONFIG = BookConfig(max_levels=1_000, pending_limit=100)

_MISSING, _WARMING_UP, _STALE = 1, 2, 4
_INVALID_QUALITY = (_MISSING,) * len(DEPTH_FEATURES)


class BookTracker:
    """One symbol's rebuilt book and depth features; ``apply`` depth messages, ``on_trade`` trades."""

    __slots__ = ("symbol", "book", "features", "updated_ns", "_events")

    def __init__(self, symbol: str, config: BookConfig = FLOW_BOOK_CONFIG) -> None:
        self.symbol = symbol
        self.book = OrderBook(symbol, config)
        self.features = DepthFeatures()
        self.updated_ns: int | None = None
        self._events: list[DriftEvent] = []

    def __getstate__(self) -> tuple:
        return self.symbol, self.book, self.features, self.updated_ns, self._events

    def __setstate__(self, state: tuple) -> None:
        self.symbol, self.book, self.features, self.updated_ns, self._events = state

    def apply(self, message: BookSnapshot | BookDelta, ts_ns: int | None = None) -> None:
        """Apply one depth message at event time ``ts_ns`` (default: its own)."""
        ts_ns = message.ts_ns if ts_ns is None else ts_ns
        book = self.book
        applied = book.counts["applied"] + book.counts["snapshots"]
        events = book.apply(message)
        self.updated_ns = ts_ns
        if book.counts["applied"] + book.counts["snapshots"] != applied or not book.valid:
            self.features.on_book(book, ts_ns, type(message) is BookDelta)
        for event in events:
            count = book.counts["gaps" if event.kind == "book_gap" else "crossed"]
            self._events.append(DriftEvent(event.event_id, event.symbol, event.ts_ns, "book_valid", "order_book",
                                           float(count), kind=event.kind))

    def on_trade(self, ts_ns: int, size: float) -> None:
        self.features.on_trade(ts_ns, size)

    def values(self, ts_ns: int) -> tuple[float, ...]:
        """The ``DEPTH_FEATURES`` at ``ts_ns``."""
        return self.features.values(self.book, ts_ns)

    def quality(self, ts_ns: int, values: tuple[float, ...], stale_after_ns: int) -> tuple[int, ...]:
        """Per depth feature: MISSING while the book is invalid, else WARMING_UP for NaN, STALE when old."""
        if not self.book.valid:
            return _INVALID_QUALITY
        stale = _STALE if self.updated_ns is not None and ts_ns - self.updated_ns > stale_after_ns else 0
        return tuple(stale | _WARMING_UP if math.isnan(value) else stale for value in values)

    @property
    def has_events(self) -> bool:
        return bool(self._events)

    def drain_events(self) -> list[DriftEvent]:
        """The ``book_gap`` / ``book_crossed`` monitor events raised since the last call."""
        events, self._events = self._events, []
        return events
