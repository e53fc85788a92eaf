"""Tick-level features: the latest trade, the best quote and the order flow around them.

The quote features describe the latest best bid and offer and are NaN while its mid is not
positive (no quote yet, or a broken one). Order-flow and signed-volume imbalance cover the
event-time window ``(now - flow_window_ns, now]``. Trades without a side get one from
:class:`operators.features.microstructure.TradeSideClassifier` against the mid in effect
(``quote_lag_ns`` earlier when that is set, else the latest).

>>> group = QuotesAndTrades(flow_window_ns=10 * SECOND_NS, quote_lag_ns=0)
>>> group.on_quote(SECOND_NS, 100.0, 100.5, 300.0, 100.0)
>>> dict(zip(group.names, group.values(2 * SECOND_NS)))["microprice"]
100.375
"""

from __future__ import annotations

from operators.features.groups.base import NAN, QUOTE, SECOND_NS, TRADE, FeatureGroup, feature, finite
from operators.features.liquidity import LaggedMid
from operators.features.microstructure import (
    OrderFlowImbalance,
    SignedVolumeImbalance,
    TradeSideClassifier,
    microprice,
    quote_imbalance,
)
from operators.messages import Side


class QuotesAndTrades(FeatureGroup):
    """Last trade, best quote, microprice, imbalances and input ages."""

    __slots__ = ("_bid", "_ask", "_bid_size", "_ask_size", "_quote_ts_ns", "_last_price", "_last_trade_ts_ns",
                 "_order_flow", "_signed_volume", "_classifier", "_lagged_mid")

    def __init__(self, flow_window_ns: int, quote_lag_ns: int) -> None:
        self._bid = self._ask = self._bid_size = self._ask_size = NAN
        self._quote_ts_ns: int | None = None
        self._last_price = NAN
        self._last_trade_ts_ns: int | None = None
        self._order_flow = OrderFlowImbalance(flow_window_ns)
        self._signed_volume = SignedVolumeImbalance(flow_window_ns)
        self._classifier = TradeSideClassifier()
        self._lagged_mid = LaggedMid(quote_lag_ns) if quote_lag_ns else None

    @property
    def quote_ts_ns(self) -> int | None:
        return self._quote_ts_ns

    @property
    def trade_ts_ns(self) -> int | None:
        return self._last_trade_ts_ns

    def on_quote(self, ts_ns: int, bid: float, ask: float, bid_size: float, ask_size: float) -> None:
        self._order_flow.update(ts_ns, bid, ask, bid_size, ask_size)
        if self._lagged_mid is not None:
            self._lagged_mid.update(ts_ns, bid, ask)
        self._bid = bid
        self._ask = ask
        self._bid_size = bid_size
        self._ask_size = ask_size
        self._quote_ts_ns = ts_ns

    def classify(self, ts_ns: int, price: float) -> Side:
        """The aggressor side the quote rule (tick rule as fallback) gives a trade at ``price``."""
        lagged = self._lagged_mid
        mid = lagged.mid_at(ts_ns) if lagged is not None else 0.5 * (self._bid + self._ask)
        return self._classifier.update(price, mid)

    def on_trade(self, ts_ns: int, price: float, size: float, side: Side) -> None:
        self._signed_volume.update(ts_ns, size, side)
        self._last_price = price
        self._last_trade_ts_ns = ts_ns

    def _mid(self) -> float:
        middle = 0.5 * (self._bid + self._ask)
        return middle if middle > 0.0 else NAN

    @feature(TRADE)
    def last_price(self, now_ns: int) -> float:
        """last trade price"""
        return self._last_price

    @feature(QUOTE)
    def mid(self, now_ns: int) -> float:
        """mid of the latest best quote"""
        return self._mid()

    @feature(QUOTE)
    def spread(self, now_ns: int) -> float:
        """ask - bid"""
        return self._ask - self._bid if self._mid() > 0.0 else NAN

    @feature(QUOTE)
    def spread_bps(self, now_ns: int) -> float:
        """spread in basis points of mid"""
        middle = self._mid()
        return (self._ask - self._bid) / middle * 1e4 if middle > 0.0 else NAN

    @feature(QUOTE)
    def microprice(self, now_ns: int) -> float:
        """size-weighted mid: (bid * ask_size + ask * bid_size) / (bid_size + ask_size)"""
        if not self._mid() > 0.0:
            return NAN
        return microprice(self._bid, self._ask, self._bid_size, self._ask_size)

    @feature(QUOTE)
    def microprice_deviation_bps(self, now_ns: int) -> float:
        """(microprice - mid) / mid in basis points"""
        middle = self._mid()
        if not middle > 0.0:
            return NAN
        return (microprice(self._bid, self._ask, self._bid_size, self._ask_size) - middle) / middle * 1e4

    @feature(QUOTE)
    def quote_imbalance(self, now_ns: int) -> float:
        """(bid_size - ask_size) / (bid_size + ask_size)"""
        return quote_imbalance(self._bid_size, self._ask_size) if self._mid() > 0.0 else NAN

    @feature(QUOTE)
    def order_flow_imbalance(self, now_ns: int) -> float:
        """Cont-Kukanov-Stoikov order-flow imbalance over the flow window, divided by mean depth"""
        self._order_flow.advance(now_ns)
        return finite(self._order_flow.value)

    @feature(TRADE)
    def signed_volume_imbalance(self, now_ns: int) -> float:
        """(buy - sell) / (buy + sell) volume over the flow window"""
        self._signed_volume.advance(now_ns)
        return self._signed_volume.value

    @feature(TRADE)
    def last_trade_age_seconds(self, now_ns: int) -> float:
        """event time since the last trade"""
        trade_ts_ns = self._last_trade_ts_ns
        return (now_ns - trade_ts_ns) / SECOND_NS if trade_ts_ns is not None else NAN

    @feature(QUOTE)
    def quote_age_seconds(self, now_ns: int) -> float:
        """event time since the last quote"""
        quote_ts_ns = self._quote_ts_ns
        return (now_ns - quote_ts_ns) / SECOND_NS if quote_ts_ns is not None else NAN
