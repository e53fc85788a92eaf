"""Paper execution: fills at the next tick after the signal, P&L marked to mid."""

from __future__ import annotations

import math
import pickle

import pytest

from operators.messages import BookDelta, BookSnapshot, Decision, Quote, Trade
from operators.paper.book import PaperBook


def _decision(signal_id: str, ts_ns: int, direction: int, size: float, *, accepted: bool = True, symbol: str = "IBM") -> Decision:
    return Decision(signal_id, symbol, ts_ns, 0, ts_ns, "v1", direction, size, size * 100.0, 100.0, 0.5,
                    "trend", accepted, "accepted" if accepted else "halted", "ACTIVE", 0.0)


def _quote(ts_ns: int, bid: float, ask: float, symbol: str = "IBM") -> Quote:
    return Quote(symbol, ts_ns, bid, ask, 1.0, 1.0)


def test_buy_fills_at_ask_of_next_quote_with_fee() -> None:
    book = PaperBook(fee_bps=1.0)
    book.on_decision(_decision("a", 100, 1, 10))
    fills = book.on_quote(_quote(200, 99.9, 100.1))
    assert len(fills) == 1
    fill = fills[0]
    assert (fill.price, fill.quantity, fill.direction, fill.reference) == (100.1, 10.0, 1, "ask")
    assert fill.fee == pytest.approx(10 * 100.1 * 1e-4)
    assert fill.signal_ts_ns == 100 and fill.ts_ns == 200
    assert book.position == 10.0 and book.average_price == 100.1


def test_quote_at_or_before_signal_time_does_not_fill() -> None:
    book = PaperBook()
    book.on_decision(_decision("a", 100, -1, 5))
    assert book.on_quote(_quote(100, 99.0, 99.2)) == []
    assert book.on_quote(_quote(90, 99.0, 99.2)) == []
    fills = book.on_quote(_quote(101, 98.0, 98.2))
    assert [f.price for f in fills] == [98.0]
    assert book.position == -5.0


def test_denied_decision_is_ignored() -> None:
    book = PaperBook()
    book.on_decision(_decision("a", 100, 1, 5, accepted=False))
    assert book.on_quote(_quote(200, 99.0, 99.2)) == []
    assert book.pending == []


def test_round_trip_realizes_pnl_and_counts_a_win() -> None:
    book = PaperBook(fee_bps=0.0)
    book.on_decision(_decision("a", 100, 1, 10))
    book.on_quote(_quote(200, 99.9, 100.1))
    book.on_decision(_decision("b", 300, -1, 10))
    [fill] = book.on_quote(_quote(400, 101.0, 101.2))
    assert fill.realized_pnl == pytest.approx(10 * (101.0 - 100.1))
    snapshot = book.snapshot()
    assert snapshot.position == 0.0 and snapshot.unrealized_pnl == 0.0
    assert (snapshot.trades, snapshot.closing_trades, snapshot.wins) == (2, 1, 1)
    assert snapshot.total_pnl == pytest.approx(9.0)


def test_flip_through_zero_resets_average_price() -> None:
    book = PaperBook(fee_bps=0.0)
    book.on_decision(_decision("a", 100, 1, 10))
    book.on_quote(_quote(200, 100.0, 100.0))
    book.on_decision(_decision("b", 300, -1, 25))
    book.on_quote(_quote(400, 99.0, 99.0))
    assert book.position == -15.0
    assert book.average_price == 99.0
    assert book.realized_pnl == pytest.approx(-10.0)


def test_unrealized_pnl_is_marked_to_mid() -> None:
    book = PaperBook(fee_bps=0.0)
    book.on_decision(_decision("a", 100, -1, 4))
    book.on_quote(_quote(200, 50.0, 50.2))
    snapshot = book.mark(300, 49.0)
    assert snapshot.unrealized_pnl == pytest.approx(-4 * (49.0 - 50.0))
    assert snapshot.mid == 49.0 and snapshot.ts_ns == 300
    assert book.mark(400, math.nan).mid == 49.0


def test_symbol_without_quotes_fills_at_next_trade_plus_half_spread() -> None:
    book = PaperBook(fee_bps=0.0, trade_half_spread_bps=2.0)
    book.on_decision(_decision("a", 100, 1, 3, symbol="SPY"))
    [fill] = book.on_trade(Trade("SPY", 150, 170.0, 100.0))
    assert fill.price == pytest.approx(170.0 * (1 + 2e-4))
    assert fill.reference == "trade"


def test_trades_do_not_fill_once_the_symbol_has_quotes() -> None:
    book = PaperBook()
    book.on_quote(_quote(50, 99.0, 99.2))
    book.on_decision(_decision("a", 100, 1, 3))
    assert book.on_trade(Trade("IBM", 150, 99.1, 100.0)) == []
    assert len(book.on_quote(_quote(160, 99.0, 99.2))) == 1


def test_book_pickles_with_its_state() -> None:
    book = PaperBook(fee_bps=0.7)
    book.on_decision(_decision("a", 100, 1, 3))
    clone = pickle.loads(pickle.dumps(book))
    assert clone.fee_bps == 0.7 and len(clone.pending) == 1
    assert clone.on_quote(_quote(200, 1.0, 1.1))[0].fill_id == book.on_quote(_quote(200, 1.0, 1.1))[0].fill_id


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_invalid_fee_is_refused_with_its_value(bad: float) -> None:
    with pytest.raises(ValueError, match="fee_bps"):
        PaperBook(fee_bps=bad)


def test_a_depth_message_given_as_a_trade_fills_nothing_and_the_next_trade_fills() -> None:
    book = PaperBook(fee_bps=0.0, trade_half_spread_bps=0.0)
    book.on_decision(_decision("s1", 100, 1, 10.0, symbol="SPY"))

    assert book.on_trade(BookSnapshot("SPY", 200, 1, ((99.0, 5.0),), ((101.0, 5.0),))) == []  # type: ignore[arg-type]
    assert book.on_trade(BookDelta("SPY", 250, 2, 2, ((99.5, 1.0),), ())) == []  # type: ignore[arg-type]
    assert [(fill.ts_ns, fill.price) for fill in book.on_trade(Trade("SPY", 300, 100.0, 1.0))] == [(300, 100.0)]
