"""Live paper trading of one symbol: paper book + win rate, rolling Sharpe, drawdown.

``PaperTrader`` is the per-symbol state of the live flow's ``paper`` stage. Accepted risk
decisions become orders of an ``operators.paper.book.PaperBook`` (filled at the next quote, ask
for a buy and bid for a sell, plus a fee); every later tick of the symbol fills what is
pending and marks the book. It emits a ``PnlRow`` on every fill and once per
``mark_interval_ns`` of event time (the first tick of each new interval), never per tick.

Decisions reach this stage later than the ticks they came from (scoring and the portfolio
risk step, which orders its input by event time, sit in between). So the trader keeps the
ticks of the last ``fill_window_ns`` of event time, and a decision that arrives after the
tick that should fill it is filled at that tick: the first tick strictly after the signal,
whatever the interleaving of the two streams (within the window).

Statistics, in event time and O(window) state:

- ``win_rate``: closing fills whose realized P&L beat their fee, over closing fills;
- ``sharpe``: mean / standard deviation of the last ``sharpe_window`` per-interval changes
  of total P&L, annualised with ``sqrt(252 * 6.5 h / interval)`` (0 until two intervals);
- ``drawdown``: running peak of total P&L minus total P&L (currency, >= 0), and its maximum.

(``operators.paper.performance`` computes the backtest's statistics from a whole equity curve;
this module keeps running values for the live flow.)

>>> from operators.messages import Decision, Quote, ValidTick
>>> trader = PaperTrader(PaperTradingConfig(mark_interval_ns=60_000_000_000))
>>> trader.on_decision(Decision("s1", "IBM", 1, 0, 7, "v1", 1, 100.0, 18_500.0, 185.0, 0.6,
...                             "calm", True, "accepted", "ACTIVE", 100.0))
[]
>>> rows = trader.on_tick(ValidTick(Quote("IBM", 2, 184.98, 185.02, 5, 5), "ticks", 0, 8))
>>> [(row.reason, row.position, round(row.total_pnl, 4)) for row in rows]
[('fill', 100.0, -2.9251), ('mark', 100.0, -2.9251)]
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from operators.messages.ids import stable_id
from operators.messages import Decision, Fill, PnlRow, Quote, Trade, ValidTick
from operators.paper.book import PaperBook

__all__ = ["PaperTrader", "PaperTradingConfig"]

TRADING_SECONDS_PER_YEAR = 252 * 6.5 * 3600
#: The ticks that fill and mark the book; depth messages pass through untouched.
_PRICED = (Quote, Trade)


@dataclass(frozen=True, slots=True)
class PaperTradingConfig:
    """``fee_bps`` per fill, a mark row every ``mark_interval_ns``, Sharpe over ``sharpe_window`` marks.

    >>> PaperTradingConfig(mark_interval_ns=0)
    Traceback (most recent call last):
    ...
    ValueError: PaperTradingConfig.mark_interval_ns must be an int > 0, got 0
    """

    fee_bps: float = 0.5
    trade_half_spread_bps: float = 1.0
    mark_interval_ns: int = 60_000_000_000
    sharpe_window: int = 390
    fill_window_ns: int = 120_000_000_000

    def __post_init__(self) -> None:
        if type(self.mark_interval_ns) is not int or self.mark_interval_ns <= 0:
            raise ValueError(f"PaperTradingConfig.mark_interval_ns must be an int > 0, got {self.mark_interval_ns!r}")
        if type(self.sharpe_window) is not int or self.sharpe_window < 2:
            raise ValueError(f"PaperTradingConfig.sharpe_window must be an int >= 2, got {self.sharpe_window!r}")

    @property
    def annualisation(self) -> float:
        return math.sqrt(TRADING_SECONDS_PER_YEAR / (self.mark_interval_ns / 1e9))


class PaperTrader:
    """One symbol's paper book and its running performance statistics."""

    __slots__ = ("_config", "book", "model_version", "_interval", "_last_total", "_changes", "_sum", "_sum_sq",
                 "peak", "max_drawdown", "fills", "_recent")

    def __init__(self, config: PaperTradingConfig | None = None) -> None:
        self._config = config or PaperTradingConfig()
        self.book = PaperBook(self._config.fee_bps, self._config.trade_half_spread_bps)
        self.model_version = ""
        self._interval = -1
        self._last_total = 0.0
        self._changes: deque[float] = deque()
        self._sum = 0.0
        self._sum_sq = 0.0
        self.peak = 0.0
        self.max_drawdown = 0.0
        self.fills = 0
        self._recent: deque[Quote | Trade] = deque()

    def on_decision(self, decision: Decision) -> list[PnlRow]:
        """Queue an accepted signal (denied ones are ignored by the book); if a kept tick is
        already past the signal, fill at the first such tick now."""
        if not decision.accepted:
            return []
        self.model_version = decision.model_version
        pending = len(self.book.pending)
        self.book.on_decision(decision)
        if len(self.book.pending) == pending:
            return []
        for raw in self._recent:
            if raw.ts_ns > decision.ts_ns and (isinstance(raw, Quote) or not self.book.has_quotes):
                return self._apply(self.book.on_quote(raw) if isinstance(raw, Quote) else self.book.on_trade(raw))
        return []

    def _apply(self, fills: list[Fill]) -> list[PnlRow]:
        rows = []
        for fill in fills:
            self.fills += 1
            self.model_version = fill.model_version or self.model_version
            rows.append(self._row(fill.ts_ns, "fill"))
        return rows

    def on_tick(self, tick: ValidTick) -> list[PnlRow]:
        """Fill pending orders at this tick, mark the book; rows for fills and a new interval. A depth
        message (``BookSnapshot``, ``BookDelta``: admitted ticks carry them too) changes nothing."""
        raw = tick.tick
        if type(raw) not in _PRICED:
            return []
        recent = self._recent
        if isinstance(raw, Quote) or not self.book.has_quotes:  # trades fill only symbols without quotes
            recent.append(raw)
        oldest = raw.ts_ns - self._config.fill_window_ns
        while recent and recent[0].ts_ns < oldest:
            recent.popleft()
        rows = self._apply(self.book.on_quote(raw) if isinstance(raw, Quote) else (
            self.book.on_trade(raw) if isinstance(raw, Trade) else []))
        interval = raw.ts_ns // self._config.mark_interval_ns
        if interval != self._interval and self.book.last_ts_ns:
            if self._interval >= 0:
                self._close_interval()
            self._interval = interval
            if self.fills:
                rows.append(self._row(raw.ts_ns, "mark"))
        return rows

    def _close_interval(self) -> None:
        total = self.book.snapshot().total_pnl
        change = total - self._last_total
        self._last_total = total
        self._changes.append(change)
        self._sum += change
        self._sum_sq += change * change
        if len(self._changes) > self._config.sharpe_window:
            old = self._changes.popleft()
            self._sum -= old
            self._sum_sq -= old * old

    def sharpe(self) -> float:
        count = len(self._changes)
        if count < 2:
            return 0.0
        mean = self._sum / count
        variance = max(0.0, (self._sum_sq - count * mean * mean) / (count - 1))
        if variance <= 1e-18:
            return 0.0
        return mean / math.sqrt(variance) * self._config.annualisation

    def _row(self, ts_ns: int, reason: str) -> PnlRow:
        snapshot = self.book.snapshot()
        total = snapshot.total_pnl
        self.peak = max(self.peak, total)
        drawdown = self.peak - total
        self.max_drawdown = max(self.max_drawdown, drawdown)
        closing = snapshot.closing_trades
        return PnlRow(
            row_id=stable_id(snapshot.symbol, self.model_version, ts_ns, reason, snapshot.trades),
            symbol=snapshot.symbol, model_version=self.model_version, ts_ns=ts_ns,
            position=snapshot.position, average_price=snapshot.average_price,
            mid=snapshot.mid if math.isfinite(snapshot.mid) else 0.0,
            realized_pnl=snapshot.realized_pnl, unrealized_pnl=snapshot.unrealized_pnl, fees=snapshot.fees,
            total_pnl=total, trades=snapshot.trades, closing_trades=closing, wins=snapshot.wins,
            win_rate=snapshot.wins / closing if closing else 0.0, sharpe=self.sharpe(), drawdown=drawdown,
            max_drawdown=self.max_drawdown, reason=reason,
        )

    def __getstate__(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"PaperTrader(symbol={self.book.symbol!r}, position={self.book.position}, fills={self.fills})"
