"""Paper execution: one symbol's simulated book, filled at the next quote after a signal.

``PaperBook`` turns accepted risk ``Decision``s into ``Fill``s and keeps the position,
the average entry price, the realized and unrealized P&L (marked to mid) and the fees.
It is pure step logic in event time: it never reads a clock, only the ``ts_ns`` of the
ticks it is given, and it pickles (plain slots, no clients).

Fill rule (no look-ahead):

- an accepted decision becomes a pending order; denied decisions and size 0 are ignored;
- the order fills at the first quote whose ``ts_ns`` is strictly after the signal's
  ``ts_ns`` (a quote stamped at the same nanosecond as the signal may already be what the
  signal saw, so it is not used): a buy at the ask (mid + half-spread), a sell at the bid;
- a symbol that has never sent a quote (SPY in the shipped data only has trades) fills at
  the first trade strictly after the signal, at the trade price +/- ``trade_half_spread_bps``
  (a buy pays ``price * (1 + bps/1e4)``), marked to the trade price;
- every fill pays ``fee_bps`` of its notional as a fee, on top of the price.

The book must be fed in event-time order (decision, then the later ticks of its symbol);
the backtest does exactly that. Fed out of order, a decision is still filled at the next
tick processed after it arrived, never at an earlier one.

>>> from operators.messages import Decision, Quote
>>> book = PaperBook(fee_bps=0.5)
>>> book.on_decision(Decision("s1", "IBM", 100, 0, 7, "v1", 1, 100.0, 18_500.0, 185.0, 0.6,
...                           "trend", True, "accepted", "ACTIVE", 100.0))
>>> [(f.price, f.quantity, round(f.fee, 4)) for f in book.on_quote(Quote("IBM", 200, 184.98, 185.02, 5, 5))]
[(185.02, 100.0, 0.9251)]
>>> snapshot = book.mark(300, 185.5)
>>> round(snapshot.unrealized_pnl, 2), round(snapshot.total_pnl, 4), snapshot.position
(48.0, 47.0749, 100.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from operators.messages.ids import stable_id
from operators.messages import Decision, Fill, PnlSnapshot, Quote, Trade

__all__ = ["PaperBook", "PendingOrder"]

_BPS = 1e-4


@dataclass(frozen=True, slots=True)
class PendingOrder:
    """An accepted signal waiting for the next tick of its symbol."""

    signal_id: str
    signal_ts_ns: int
    direction: int
    quantity: float
    model_version: str
    regime: str


class PaperBook:
    """One symbol's paper position, filled at the next quote (or trade) after each signal."""

    __slots__ = (
        "_fee_bps",
        "_trade_half_spread_bps",
        "symbol",
        "pending",
        "position",
        "average_price",
        "realized_pnl",
        "fees",
        "trades",
        "closing_trades",
        "wins",
        "traded_notional",
        "has_quotes",
        "last_ts_ns",
        "last_mid",
    )

    def __init__(self, fee_bps: float = 0.5, trade_half_spread_bps: float = 1.0) -> None:
        for name, value in (("fee_bps", fee_bps), ("trade_half_spread_bps", trade_half_spread_bps)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 10_000.0:
                raise ValueError(f"PaperBook.{name} must be a number in [0, 10000) bps, got {value!r}")
        self._fee_bps = float(fee_bps)
        self._trade_half_spread_bps = float(trade_half_spread_bps)
        self._reset()

    def _reset(self) -> None:
        self.symbol = ""
        self.pending: list[PendingOrder] = []
        self.position = 0.0
        self.average_price = 0.0
        self.realized_pnl = 0.0
        self.fees = 0.0
        self.trades = 0
        self.closing_trades = 0
        self.wins = 0
        self.traded_notional = 0.0
        self.has_quotes = False
        self.last_ts_ns = 0
        self.last_mid = math.nan

    @property
    def fee_bps(self) -> float:
        return self._fee_bps

    @property
    def trade_half_spread_bps(self) -> float:
        return self._trade_half_spread_bps

    def __getstate__(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def on_decision(self, decision: Decision) -> None:
        """Queue an accepted decision as an order; ignore denied ones and invalid sizes."""
        if not decision.accepted or decision.direction not in (-1, 1):
            return
        if not 0.0 < decision.size < math.inf:
            return
        self.symbol = self.symbol or decision.symbol
        self.pending.append(
            PendingOrder(
                decision.signal_id,
                decision.ts_ns,
                decision.direction,
                float(decision.size),
                decision.model_version,
                decision.regime,
            )
        )

    def on_quote(self, quote: Quote) -> list[Fill]:
        """Fill the orders placed before ``quote`` at its ask/bid; mark the book to its mid."""
        if not (0.0 < quote.bid <= quote.ask < math.inf):
            return []
        self.has_quotes = True
        self.symbol = self.symbol or quote.symbol
        mid = 0.5 * (quote.bid + quote.ask)
        fills = self._fill(quote.ts_ns, mid, buy_price=quote.ask, sell_price=quote.bid, reference="quote")
        self._mark_to(quote.ts_ns, mid)
        return fills

    def on_trade(self, trade: Trade) -> list[Fill]:
        """For a symbol without quotes: fill at the trade price +/- the half-spread; mark to it. Anything
        that is not a ``Trade`` (a depth message of a backtest's tape read from a topic) fills nothing."""
        if type(trade) is not Trade or not 0.0 < trade.price < math.inf:
            return []
        self.symbol = self.symbol or trade.symbol
        if self.has_quotes:
            return []
        half_spread = trade.price * self._trade_half_spread_bps * _BPS
        fills = self._fill(
            trade.ts_ns,
            trade.price,
            buy_price=trade.price + half_spread,
            sell_price=trade.price - half_spread,
            reference="trade",
        )
        self._mark_to(trade.ts_ns, trade.price)
        return fills

    def mark(self, ts_ns: int, mid: float) -> PnlSnapshot:
        """Mark the book to ``mid`` at ``ts_ns`` (a non-finite mid keeps the last one)."""
        if 0.0 < mid < math.inf:
            self._mark_to(ts_ns, mid)
        else:
            self.last_ts_ns = max(self.last_ts_ns, ts_ns)
        return self.snapshot()

    def snapshot(self) -> PnlSnapshot:
        mid = self.last_mid
        unrealized = self.position * (mid - self.average_price) if self.position and math.isfinite(mid) else 0.0
        return PnlSnapshot(
            symbol=self.symbol,
            ts_ns=self.last_ts_ns,
            position=self.position,
            average_price=self.average_price,
            mid=mid,
            realized_pnl=self.realized_pnl,
            unrealized_pnl=unrealized,
            fees=self.fees,
            total_pnl=self.realized_pnl + unrealized - self.fees,
            trades=self.trades,
            closing_trades=self.closing_trades,
            wins=self.wins,
            gross_exposure=abs(self.position) * mid if math.isfinite(mid) else 0.0,
            traded_notional=self.traded_notional,
        )

    def _mark_to(self, ts_ns: int, mid: float) -> None:
        if ts_ns >= self.last_ts_ns:
            self.last_ts_ns = ts_ns
            self.last_mid = mid

    def _fill(self, ts_ns: int, mid: float, *, buy_price: float, sell_price: float, reference: str) -> list[Fill]:
        if not self.pending:
            return []
        ready = [order for order in self.pending if order.signal_ts_ns < ts_ns]
        if not ready:
            return []
        self.pending = [order for order in self.pending if order.signal_ts_ns >= ts_ns]
        fills = []
        for order in ready:
            price = buy_price if order.direction > 0 else sell_price
            side = ("ask" if order.direction > 0 else "bid") if reference == "quote" else "trade"
            fills.append(self._apply(order, ts_ns, price, mid, side))
        return fills

    def _apply(self, order: PendingOrder, ts_ns: int, price: float, mid: float, reference: str) -> Fill:
        signed = order.direction * order.quantity
        notional = order.quantity * price
        fee = notional * self._fee_bps * _BPS
        realized = 0.0
        position = self.position
        if position == 0.0 or (position > 0.0) == (signed > 0.0):
            total = position + signed
            self.average_price = (abs(position) * self.average_price + order.quantity * price) / abs(total)
            self.position = total
        else:
            closed = min(abs(position), order.quantity)
            realized = closed * (price - self.average_price) * (1.0 if position > 0.0 else -1.0)
            remaining = position + signed
            self.closing_trades += 1
            if realized - fee > 0.0:
                self.wins += 1
            if abs(remaining) < 1e-9:
                self.position, self.average_price = 0.0, 0.0
            elif (remaining > 0.0) == (position > 0.0):
                self.position = remaining
            else:
                self.position, self.average_price = remaining, price
        self.realized_pnl += realized
        self.fees += fee
        self.trades += 1
        self.traded_notional += notional
        return Fill(
            fill_id=stable_id(order.signal_id, "fill"),
            signal_id=order.signal_id,
            symbol=self.symbol,
            ts_ns=ts_ns,
            signal_ts_ns=order.signal_ts_ns,
            direction=order.direction,
            quantity=order.quantity,
            price=price,
            mid=mid,
            fee=fee,
            reference=reference,
            model_version=order.model_version,
            regime=order.regime,
            realized_pnl=realized,
            position_after=self.position,
            average_price_after=self.average_price,
        )
