"""Order-flow features at tick level: what the quote and trade stream did in the last seconds.

These complement :class:`operators.features.groups.quotes_and_trades.QuotesAndTrades` (which
describes the latest quote and one configurable flow window) with the inputs of the
microstructure model (``models.micro``), at fixed windows so that a trained model's inputs
never change with a setting:

- ``order_flow_imbalance_{1s,10s,60s}``: Cont-Kukanov-Stoikov order-flow imbalance over the
  window, divided by the mean depth of the quotes in it (see
  :class:`operators.features.microstructure.OrderFlowImbalance`; one OFI event stream feeds
  all three windows); 0 for a window without quote changes once two quotes have been seen;
- ``spread_ticks``: the quoted spread in 1-cent ticks (0 when locked, negative when crossed);
- ``depth_ratio_60s``: the latest depth ``(bid_size + ask_size) / 2`` over its mean across the
  quotes of the last 60 s (a thinning queue precedes a move);
- ``trade_imbalance_{1s,60s}``: ``(buy - sell) / (buy + sell)`` volume, the side given to each
  trade by the caller (the live step classifies it against the latest quote); 0 for a window
  without signed trades once one has been seen;
- ``trade_count_60s`` and ``mean_log_trade_size_60s``: trading intensity and size;
- ``last_trade_sign``: +1 buy, -1 sell, 0 unknown, NaN before the first trade;
- ``last_mid_move``: sign of the latest change of the mid (+1 / -1), NaN before the first;
- ``mid_unchanged_seconds``: event time since the mid last changed (or since the first quote);
- ``mid_changes_60s``: how many quotes changed the mid in the last 60 s.

Windows are event time ``(now - window, now]``. The windows of one stream share the buffers of
an :class:`operators.features.rolling.EventTimeWindows`: every quote's OFI event and depth (OFI
at 1, 10 and 60 s, from the second quote on, and the depth at 60 s, from the first), the signed
trades (at 1 and 60 s); the log trade sizes and the mid changes over 60 s are each an
:class:`operators.features.rolling.EventTimeSum` (one value per event). So an update is O(1)
amortised and the state holds at most 60 s of events, once. Quotes whose mid is not positive are
ignored for the mid features but still count as OFI events (as in ``QuotesAndTrades``). Values
are NaN, never inf.

>>> group = OrderFlowFeatures()
>>> group.on_quote(SECOND_NS, 100.00, 100.02, 300.0, 100.0)
>>> group.on_quote(2 * SECOND_NS, 100.01, 100.02, 200.0, 100.0)  # bid steps up: +200 shares
>>> values = dict(zip(group.names, group.values(2 * SECOND_NS)))
>>> values["order_flow_imbalance_10s"], values["spread_ticks"], values["last_mid_move"]
(1.3333333333333333, 1.0, 1.0)
"""

from __future__ import annotations

import math

from operators.features.groups.base import NAN, QUOTE, SECOND_NS, TRADE, FeatureGroup, feature, finite
from operators.features.microstructure import order_flow_event
from operators.features.rolling import EventTimeSum, EventTimeWindows
from operators.messages import Side

TICK_SIZE = 0.01
#: Relative difference below which two mids are the same price (float noise of (bid + ask) / 2).
MID_TOLERANCE = 1e-9
SIDE_SIGN = {"buy": 1.0, "sell": -1.0}
OFI_WINDOWS_NS = (SECOND_NS, 10 * SECOND_NS, 60 * SECOND_NS)
#: The windows over the quotes: OFI at 1, 10 and 60 s (numbers 0 to 2), then the depth at 60 s.
QUOTE_WINDOWS_NS = (*OFI_WINDOWS_NS, 60 * SECOND_NS)
DEPTH_WINDOW = len(OFI_WINDOWS_NS)
TRADE_WINDOWS_NS = (SECOND_NS, 60 * SECOND_NS)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0.0 else NAN


class OrderFlowFeatures(FeatureGroup):
    """Order-flow imbalance at 1/10/60 s, spread in ticks, depth, trade flow and mid dynamics."""

    __slots__ = ("_previous_quote", "_quote_windows", "_bid", "_ask", "_depth", "_trades", "_sizes_60s",
                 "_last_trade_sign", "_mid", "_last_mid_move", "_mid_since_ns", "_mid_changes_60s")

    def __init__(self) -> None:
        self._previous_quote: tuple[float, float, float, float] | None = None
        self._quote_windows = EventTimeWindows(QUOTE_WINDOWS_NS)
        self._bid = self._ask = self._depth = NAN
        self._trades = EventTimeWindows(TRADE_WINDOWS_NS)
        self._sizes_60s = EventTimeSum(60 * SECOND_NS)
        self._last_trade_sign = NAN
        self._mid = NAN
        self._last_mid_move = NAN
        self._mid_since_ns: int | None = None
        self._mid_changes_60s = EventTimeSum(60 * SECOND_NS)  # a 1.0 per change: the total is their count

    def on_quote(self, ts_ns: int, bid: float, ask: float, bid_size: float, ask_size: float) -> None:
        previous = self._previous_quote
        self._previous_quote = (bid, ask, bid_size, ask_size)
        depth = 0.5 * (bid_size + ask_size)
        windows = self._quote_windows
        if previous is not None:
            windows.add(ts_ns, order_flow_event(bid, ask, bid_size, ask_size, *previous), depth)
        else:  # the first quote: its depth counts, but there is no OFI event before the second
            windows.add(ts_ns, 0.0, depth)
            for window in range(DEPTH_WINDOW):
                windows.leave_out_newest(window)
        self._bid, self._ask, self._depth = bid, ask, depth
        self._on_mid(ts_ns, 0.5 * (bid + ask))

    def _on_mid(self, ts_ns: int, middle: float) -> None:
        if not middle > 0.0:
            return
        previous = self._mid
        if previous == previous and abs(middle - previous) > MID_TOLERANCE * previous:
            self._last_mid_move = 1.0 if middle > previous else -1.0
            self._mid_changes_60s.add(ts_ns, 1.0)
            self._mid_since_ns = ts_ns
        elif self._mid_since_ns is None:
            self._mid_since_ns = ts_ns
        self._mid = middle

    def on_trade(self, ts_ns: int, price: float, size: float, side: Side) -> None:
        sign = SIDE_SIGN.get(side, 0.0)
        self._last_trade_sign = sign
        if sign:
            self._trades.add(ts_ns, sign * size, size)
        if size > 0.0:
            self._sizes_60s.add(ts_ns, math.log(size))

    def _order_flow_imbalance(self, window: int, now_ns: int) -> float:
        windows = self._quote_windows
        windows.advance(now_ns)
        count = windows.count(window)
        if not count:
            return 0.0 if self._previous_quote is not None else NAN
        return finite(_ratio(windows.first(window) * count, windows.second(window)))

    def _trade_imbalance(self, window: int, now_ns: int) -> float:
        windows = self._trades
        windows.advance(now_ns)
        if not windows.count(window):
            return 0.0 if self._last_trade_sign == self._last_trade_sign else NAN
        return _ratio(windows.first(window), windows.second(window))

    @feature(QUOTE)
    def order_flow_imbalance_1s(self, now_ns: int) -> float:
        """CKS order-flow imbalance over 1 s, divided by mean depth"""
        return self._order_flow_imbalance(0, now_ns)

    @feature(QUOTE)
    def order_flow_imbalance_10s(self, now_ns: int) -> float:
        """CKS order-flow imbalance over 10 s, divided by mean depth"""
        return self._order_flow_imbalance(1, now_ns)

    @feature(QUOTE)
    def order_flow_imbalance_60s(self, now_ns: int) -> float:
        """CKS order-flow imbalance over 60 s, divided by mean depth"""
        return self._order_flow_imbalance(2, now_ns)

    @feature(QUOTE)
    def spread_ticks(self, now_ns: int) -> float:
        """(ask - bid) in 1-cent ticks"""
        return round((self._ask - self._bid) / TICK_SIZE, 6) if self._bid + self._ask > 0.0 else NAN

    @feature(QUOTE)
    def depth_ratio_60s(self, now_ns: int) -> float:
        """latest depth over the mean depth of the quotes of the last 60 s"""
        windows = self._quote_windows
        windows.advance(now_ns)
        return finite(_ratio(self._depth * windows.count(DEPTH_WINDOW), windows.second(DEPTH_WINDOW)))

    @feature(TRADE)
    def trade_imbalance_1s(self, now_ns: int) -> float:
        """(buy - sell) / (buy + sell) volume over 1 s"""
        return self._trade_imbalance(0, now_ns)

    @feature(TRADE)
    def trade_imbalance_60s(self, now_ns: int) -> float:
        """(buy - sell) / (buy + sell) volume over 60 s"""
        return self._trade_imbalance(1, now_ns)

    @feature(TRADE)
    def trade_count_60s(self, now_ns: int) -> float:
        """number of trades in the last 60 s"""
        window = self._sizes_60s
        window.advance(now_ns)
        return float(len(window))

    @feature(TRADE)
    def mean_log_trade_size_60s(self, now_ns: int) -> float:
        """mean log trade size (shares) over 60 s"""
        window = self._sizes_60s
        window.advance(now_ns)
        return _ratio(window.total, float(len(window)))

    @feature(TRADE)
    def last_trade_sign(self, now_ns: int) -> float:
        """side of the latest trade: +1 buy, -1 sell, 0 unknown"""
        return self._last_trade_sign

    @feature(QUOTE)
    def last_mid_move(self, now_ns: int) -> float:
        """sign of the latest mid change"""
        return self._last_mid_move

    @feature(QUOTE)
    def mid_unchanged_seconds(self, now_ns: int) -> float:
        """event time since the mid last changed"""
        since = self._mid_since_ns
        return (now_ns - since) / SECOND_NS if since is not None else NAN

    @feature(QUOTE)
    def mid_changes_60s(self, now_ns: int) -> float:
        """number of mid changes in the last 60 s"""
        window = self._mid_changes_60s
        window.advance(now_ns)
        return float(len(window))
