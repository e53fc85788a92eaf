"""Live paper trading: fills at the first tick after the signal, whatever the arrival order."""

from __future__ import annotations

from operators.messages import BookDelta, BookSnapshot, Decision, Quote, ValidTick
from operators.paper.trader import PaperTrader, PaperTradingConfig

MINUTE = 60_000_000_000


def a_decision(ts: int, direction: int = 1, size: float = 100.0, signal_id: str = "s1") -> Decision:
    return Decision(signal_id, "IBM", ts, 0, ts, "v1", direction, size, size * 185, 185.0, 0.6, "calm", True,
                    "accepted", "ACTIVE", size)


def a_quote(ts: int, bid: float, ask: float) -> ValidTick:
    return ValidTick(Quote("IBM", ts, bid, ask, 5, 5), "ticks", 0, ts)


def test_a_decision_arriving_after_later_quotes_fills_at_the_first_quote_after_the_signal() -> None:
    trader = PaperTrader(PaperTradingConfig(fee_bps=0.0))
    for ts, bid in ((10, 185.0), (20, 186.0), (30, 187.0)):
        trader.on_tick(a_quote(ts, bid, bid + 0.02))
    rows = trader.on_decision(a_decision(15))
    assert [(row.reason, row.ts_ns, row.position) for row in rows] == [("fill", 20, 100.0)]
    assert trader.book.average_price == 186.02


def test_marks_are_emitted_once_per_interval_not_per_tick() -> None:
    trader = PaperTrader(PaperTradingConfig(mark_interval_ns=MINUTE))
    trader.on_decision(a_decision(0))
    rows = []
    for second in range(1, 180):
        rows += trader.on_tick(a_quote(second * 1_000_000_000, 185.0, 185.02))
    assert [row.reason for row in rows] == ["fill", "mark", "mark", "mark"]


def test_drawdown_and_win_rate_follow_the_book() -> None:
    trader = PaperTrader(PaperTradingConfig(fee_bps=0.0, mark_interval_ns=MINUTE))
    trader.on_decision(a_decision(0, 1, signal_id="buy"))
    trader.on_tick(a_quote(1, 100.0, 100.0))
    trader.on_tick(a_quote(MINUTE, 110.0, 110.0))
    trader.on_decision(a_decision(MINUTE + 1, -1, signal_id="sell"))
    rows = trader.on_tick(a_quote(2 * MINUTE, 105.0, 105.0))
    fill = rows[0]
    assert fill.realized_pnl == 500.0 and fill.win_rate == 1.0 and fill.position == 0.0
    # The one-minute mark at 110 set the peak (1,000); selling at 105 leaves 500 below it.
    assert fill.drawdown == 500.0 and fill.max_drawdown == 500.0


def test_depth_messages_neither_fill_nor_mark_nor_change_the_trader() -> None:
    with_books, without = PaperTrader(PaperTradingConfig(fee_bps=0.0)), PaperTrader(PaperTradingConfig(fee_bps=0.0))
    for trader in (with_books, without):
        trader.on_decision(a_decision(5))
        trader.on_tick(a_quote(6, 185.0, 185.02))  # the fill
    books = [ValidTick(BookSnapshot("IBM", 10, 1, ((180.0, 1.0),), ((190.0, 1.0),)), "ticks", 0, 10),
             ValidTick(BookDelta("IBM", 3 * MINUTE, 2, 2, ((181.0, 1.0),), ()), "ticks", 0, 11)]

    assert [with_books.on_tick(book) for book in books] == [[], []]  # no mark in a new interval either
    later = a_quote(4 * MINUTE, 186.0, 186.02)
    assert with_books.on_tick(later) == without.on_tick(later)
    assert with_books.book.snapshot() == without.book.snapshot()
