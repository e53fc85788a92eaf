"""Check rebuilt books against the venue's own best-quote stream at the same update id.

A venue that stamps its best quotes with the book's update id (Binance ``bookTicker`` ``u``,
``Quote.book_id``) publishes an oracle: the top of a correctly rebuilt book after the update with
that id must equal the quote, prices and sizes. :class:`BookChecker` rebuilds each symbol's book
(:class:`~operators.book.book.OrderBook`) and compares:

* a quote whose id the book has not reached yet waits (best quotes often arrive a few ms before
  the delta that produces them) and is compared when a delta reaches it;
* a quote whose id is a delta's last id (or the snapshot's id) is **compared** with the top as of
  that delta (the last ``HISTORY`` tops are kept for quotes that arrive late);
* a quote whose id lies strictly inside a delta's range is **not comparable**: the book is only
  observable at the end of each delta (``inside_delta``), which is most quotes on a venue that
  batches 100 ms of updates per delta (Binance spot);
* a quote that falls between two deltas of its symbol (ids skipped: other symbols' updates) is
  compared with the top after the earlier delta;
* quotes before the snapshot, while the book is invalid, older than the kept history, or never
  reached before the input ends are counted by reason, never compared.

Mismatches are counted by field (``bid``, ``ask``, ``bid_size``, ``ask_size``); the first few are
kept with their ids so a user can look them up.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from operators.book.book import BookConfig, OrderBook
from operators.messages import BookDelta, BookSnapshot, Quote, Trade

HISTORY = 4_096
EXAMPLES = 5
FIELDS = ("bid", "bid_size", "ask", "ask_size")

Top = tuple[float, float, float, float]


@dataclass
class SymbolCheck:
    """What the check saw for one symbol."""

    symbol: str
    book: OrderBook
    messages: Counter = field(default_factory=Counter)
    compared: int = 0
    matched: int = 0
    mismatched: Counter = field(default_factory=Counter)
    not_comparable: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    # last ids (ascending) and (first_id, last_id, top) of the latest applied updates
    history_ids: list[int] = field(default_factory=list)
    history: list[tuple[int, int, Top]] = field(default_factory=list)
    waiting: list[Quote] = field(default_factory=list)
    trimmed: bool = False  # the history no longer reaches back to the snapshot

    def forget(self) -> None:
        self.history_ids.clear()
        self.history.clear()
        self.trimmed = False

    def remember(self, first_id: int, last_id: int, top: Top) -> None:
        self.history_ids.append(last_id)
        self.history.append((first_id, last_id, top))
        if len(self.history) > 2 * HISTORY:
            del self.history_ids[:HISTORY], self.history[:HISTORY]
            self.trimmed = True

    def summary(self) -> dict[str, object]:
        comparable = self.compared
        return {"symbol": self.symbol, **{k: self.messages[k] for k in ("snapshot", "delta", "quote", "trade")},
                "gaps": self.book.counts["gaps"], "crossed": self.book.counts["crossed"],
                "stale_deltas": self.book.counts["stale"], "rejected": self.book.counts["rejected"],
                "compared": comparable, "matched": self.matched,
                "match_share": round(self.matched / comparable, 6) if comparable else None,
                "mismatched": dict(sorted(self.mismatched.items())),
                "not_comparable": dict(sorted(self.not_comparable.items())), "examples": self.examples}


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


class BookChecker:
    """Feed messages in arrival order with ``add``; ``finish()`` returns one summary per symbol."""

    def __init__(self, config: BookConfig = BookConfig()) -> None:
        self.config = config
        self.symbols: dict[str, SymbolCheck] = {}

    def _state(self, symbol: str) -> SymbolCheck:
        state = self.symbols.get(symbol)
        if state is None:
            state = self.symbols[symbol] = SymbolCheck(symbol, OrderBook(symbol, self.config))
        return state

    def add(self, message: object) -> None:
        if isinstance(message, (BookSnapshot, BookDelta)):
            self._book(message)
        elif isinstance(message, Quote):
            state = self._state(message.symbol)
            state.messages["quote"] += 1
            if message.book_id is None:
                state.not_comparable["no_book_id"] += 1
            else:
                self._quote(state, message)
        elif isinstance(message, Trade):
            self._state(message.symbol).messages["trade"] += 1

    def _book(self, message: BookSnapshot | BookDelta) -> None:
        state = self._state(message.symbol)
        snapshot = type(message) is BookSnapshot
        state.messages["snapshot" if snapshot else "delta"] += 1
        book = state.book
        was_valid, before = book.valid, book.last_id
        book.apply(message)
        if not book.valid:
            state.forget()
            return
        if snapshot or not was_valid:
            state.forget()
            state.remember(book.last_id, book.last_id, book.top())
        elif book.last_id != before:
            state.remember(message.first_id, book.last_id, book.top())
        self._resolve(state)

    def _quote(self, state: SymbolCheck, quote: Quote) -> None:
        if not state.book.valid:
            state.not_comparable["book_invalid"] += 1
        elif quote.book_id > state.book.last_id:
            state.waiting.append(quote)
        else:
            self._compare_at(state, quote)

    def _resolve(self, state: SymbolCheck) -> None:
        if not state.waiting:
            return
        last = state.book.last_id
        still = []
        for quote in state.waiting:
            if quote.book_id <= last:
                self._compare_at(state, quote)
            else:
                still.append(quote)
        state.waiting = still

    def _compare_at(self, state: SymbolCheck, quote: Quote) -> None:
        history = state.history
        ids = state.history_ids
        position = bisect_left(ids, quote.book_id)  # < len(ids): book_id <= the book's last id == ids[-1]
        first, last, top = history[position]
        if last == quote.book_id:
            self._compare(state, quote, top)
        elif first <= quote.book_id:
            state.not_comparable["inside_delta"] += 1
        elif position > 0:
            self._compare(state, quote, history[position - 1][2])
        else:
            state.not_comparable["older_than_history" if state.trimmed else "before_snapshot"] += 1

    def _compare(self, state: SymbolCheck, quote: Quote, top: Top) -> None:
        state.compared += 1
        wrong = [name for name, a, b in zip(FIELDS, top, (quote.bid, quote.bid_size, quote.ask, quote.ask_size),
                                            strict=True) if not _same(a, b)]
        if not wrong:
            state.matched += 1
            return
        state.mismatched.update(wrong)
        if len(state.examples) < EXAMPLES:
            state.examples.append(f"id {quote.book_id}: book {top}, venue "
                                  f"{(quote.bid, quote.bid_size, quote.ask, quote.ask_size)}")

    def finish(self) -> list[dict[str, object]]:
        for state in self.symbols.values():
            if state.waiting:
                state.not_comparable["never_reached"] += len(state.waiting)
                state.waiting = []
        return [self.symbols[symbol].summary() for symbol in sorted(self.symbols)]


def check_books(messages: Iterable[object], config: BookConfig = BookConfig()) -> list[dict[str, object]]:
    """Rebuild every symbol's book from ``messages`` (arrival order) and compare it with the venue's quotes."""
    checker = BookChecker(config)
    for message in messages:
        checker.add(message)
    return checker.finish()
