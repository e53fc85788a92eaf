"""Paper trading records: fills of accepted signals and the paper book marked to market."""

# Annotations are evaluated at class creation (no ``from __future__ import annotations``): the
# structs take the package's name as ``__module__`` (see ``__init__``), so msgspec must not have to
# look their annotation names up in that module.

import msgspec


class Fill(msgspec.Struct, frozen=True):
    """A paper execution of one accepted signal (``operators.paper.book``).

    ``direction`` is +1 (bought) or -1 (sold), ``quantity`` > 0 shares, ``price`` the fill
    price including the half-spread (ask for a buy, bid for a sell, or trade price +/- the
    configured half-spread for symbols without quotes); ``fee`` is paid on top.
    ``reference`` says what the price came from (``ask``, ``bid``, ``trade``).
    ``realized_pnl`` is the price P&L this fill closed (before fees); ``signal_ts_ns`` the
    event time of the signal, ``ts_ns`` the event time of the tick that filled it.
    """

    fill_id: str
    signal_id: str
    symbol: str
    ts_ns: int
    signal_ts_ns: int
    direction: int
    quantity: float
    price: float
    mid: float
    fee: float
    reference: str
    model_version: str = ""
    regime: str = ""
    realized_pnl: float = 0.0
    position_after: float = 0.0
    average_price_after: float = 0.0


class PnlSnapshot(msgspec.Struct, frozen=True):
    """One symbol's paper book marked to mid at event time ``ts_ns``.

    ``realized_pnl`` and ``unrealized_pnl`` are price P&L before fees; ``fees`` the fees
    paid so far; ``total_pnl = realized_pnl + unrealized_pnl - fees``. ``trades`` counts
    fills, ``closing_trades`` the fills that reduced a position and ``wins`` those whose
    realized P&L net of their own fee was > 0.
    """

    symbol: str
    ts_ns: int
    position: float
    average_price: float
    mid: float
    realized_pnl: float
    unrealized_pnl: float
    fees: float
    total_pnl: float
    trades: int = 0
    closing_trades: int = 0
    wins: int = 0
    gross_exposure: float = 0.0
    traded_notional: float = 0.0


class PnlRow(msgspec.Struct, frozen=True):
    """The paper book of one symbol and model marked at ``ts_ns`` (``operators.paper.trader``).

    The book fields are those of ``PnlSnapshot``; ``win_rate`` is wins over closing trades,
    ``sharpe`` the rolling Sharpe ratio of the per-interval changes of ``total_pnl`` (annualised),
    ``drawdown`` the distance of ``total_pnl`` below its running peak (>= 0, currency) and
    ``max_drawdown`` the largest such distance so far. ``reason`` is ``fill`` or ``mark``.
    """

    row_id: str
    symbol: str
    model_version: str
    ts_ns: int
    position: float
    average_price: float
    mid: float
    realized_pnl: float
    unrealized_pnl: float
    fees: float
    total_pnl: float
    trades: int
    closing_trades: int
    wins: int
    win_rate: float
    sharpe: float
    drawdown: float
    max_drawdown: float
    reason: str = "mark"
