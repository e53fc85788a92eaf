"""Bar features: 1-second and 1-minute time bars built from trades, their returns and volatility.

The group owns the two bar builders: trades fill them and any tick moves their event time on,
which hands back the bars it completes (for the other groups that run on bars). The features
describe the **last completed** bar. "Previous close" is the close of the previous bar that had
trades; returns and volatilities are per bar, not annualised. Each 1-minute log return that
follows its previous bar without a gap is also kept as a :class:`operators.messages.BarReturn`
for cross-asset statistics.

>>> group = BarsAndReturns("IBM", ewma_lambda=0.94)
>>> group.on_trade(1 * MINUTE_NS, 100.0, 10.0, "buy")
(None, None)
>>> second_bar, minute_bar = group.advance(2 * MINUTE_NS)
>>> minute_bar.vwap, dict(zip(group.names, group.values(2 * MINUTE_NS)))["bar_age_seconds_1m"]
(100.0, 0.0)
"""

from __future__ import annotations

import math

from operators.features.bars import Bar, TimeBarBuilder
from operators.features.groups.base import MINUTE_BAR, MINUTE_NS, NAN, SECOND_BAR, SECOND_NS, FeatureGroup, feature
from operators.messages import BarReturn, Side
from operators.ta.indicators.ewma_volatility import EwmaVolatility

CompletedBars = tuple[Bar | None, Bar | None]


class BarsAndReturns(FeatureGroup):
    """1 s and 1 min bars; log returns, EWMA volatility, VWAP, volume and age of the last bars."""

    __slots__ = ("symbol", "_second_bars", "_minute_bars", "_second_bar", "_second_return", "_second_volatility",
                 "_minute_bar", "_minute_return", "_minute_volatility", "_last_price", "_bar_returns")

    def __init__(self, symbol: str, ewma_lambda: float) -> None:
        self.symbol = symbol
        self._second_bars = TimeBarBuilder(SECOND_NS)
        self._minute_bars = TimeBarBuilder(MINUTE_NS)
        self._second_bar: Bar | None = None
        self._second_return = NAN
        self._second_volatility = EwmaVolatility(lambda_=ewma_lambda)
        self._minute_bar: Bar | None = None
        self._minute_return = NAN
        self._minute_volatility = EwmaVolatility(lambda_=ewma_lambda)
        self._last_price = NAN
        self._bar_returns: list[BarReturn] = []

    @property
    def second_bar(self) -> Bar | None:
        """The last completed 1-second bar."""
        return self._second_bar

    @property
    def minute_bar(self) -> Bar | None:
        """The last completed 1-minute bar."""
        return self._minute_bar

    def on_trade(self, ts_ns: int, price: float, size: float, side: Side) -> CompletedBars:
        """Add a trade to both bars; return the (1 s, 1 min) bars it completes, None where none."""
        self._last_price = price
        second_bar = self._second_bars.update(ts_ns, price, size, side)
        if second_bar is not None:
            self._on_second_bar(second_bar)
        minute_bar = self._minute_bars.update(ts_ns, price, size, side)
        if minute_bar is not None:
            self._on_minute_bar(minute_bar)
        return second_bar, minute_bar

    def advance(self, ts_ns: int) -> CompletedBars:
        """Move event time to ``ts_ns``; return the (1 s, 1 min) bars that completes."""
        second_bar = self._second_bars.advance(ts_ns)
        if second_bar is not None:
            self._on_second_bar(second_bar)
        minute_bar = self._minute_bars.advance(ts_ns)
        if minute_bar is not None:
            self._on_minute_bar(minute_bar)
        return second_bar, minute_bar

    def _on_second_bar(self, bar: Bar) -> None:
        close = bar.close
        previous = self._second_bar.close if self._second_bar is not None else NAN
        self._second_return = math.log(close / previous) if previous > 0.0 and close > 0.0 else NAN
        self._second_bar = bar
        if close > 0.0:
            self._second_volatility.update(close)

    def _on_minute_bar(self, bar: Bar) -> None:
        close = bar.close
        previous = self._minute_bar
        if previous is not None and previous.close > 0.0 and close > 0.0:
            self._minute_return = math.log(close / previous.close)
            if previous.end_ns == bar.start_ns:
                self._bar_returns.append(BarReturn(self.symbol, MINUTE_NS, previous.end_ns, bar.end_ns,
                                                   self._minute_return))
        else:
            self._minute_return = NAN
        self._minute_bar = bar
        if close > 0.0:
            self._minute_volatility.update(close)

    @property
    def has_returns(self) -> bool:
        return bool(self._bar_returns)

    def drain_returns(self) -> list[BarReturn]:
        """The 1-minute bar returns completed since the last call."""
        returns, self._bar_returns = self._bar_returns, []
        return returns

    @feature(SECOND_BAR)
    def log_return_1s(self, now_ns: int) -> float:
        """log(close / previous close) of the last two 1 s bars"""
        return self._second_return

    @feature(SECOND_BAR)
    def ewma_volatility_1s(self, now_ns: int) -> float:
        """RiskMetrics volatility of 1 s bar log returns"""
        return self._second_volatility.value

    @feature(MINUTE_BAR)
    def log_return_1m(self, now_ns: int) -> float:
        """log(close / previous close) of the last two 1 min bars"""
        return self._minute_return

    @feature(MINUTE_BAR)
    def ewma_volatility_1m(self, now_ns: int) -> float:
        """RiskMetrics volatility of 1 min bar log returns"""
        return self._minute_volatility.value

    @feature(MINUTE_BAR)
    def vwap_1m(self, now_ns: int) -> float:
        """VWAP of the last 1 min bar"""
        return self._minute_bar.vwap if self._minute_bar is not None else NAN

    @feature(MINUTE_BAR)
    def vwap_deviation_1m(self, now_ns: int) -> float:
        """log(last_price / vwap_1m)"""
        if self._minute_bar is None:
            return NAN
        vwap, last_price = self._minute_bar.vwap, self._last_price
        return math.log(last_price / vwap) if vwap > 0.0 and last_price > 0.0 else NAN

    @feature(MINUTE_BAR)
    def volume_1m(self, now_ns: int) -> float:
        """volume of the last 1 min bar"""
        return self._minute_bar.volume if self._minute_bar is not None else NAN

    @feature(MINUTE_BAR)
    def trade_count_1m(self, now_ns: int) -> float:
        """trades in the last 1 min bar"""
        return float(self._minute_bar.trade_count) if self._minute_bar is not None else NAN

    @feature(MINUTE_BAR)
    def bar_age_seconds_1m(self, now_ns: int) -> float:
        """event time since the end of the last 1 min bar"""
        return (now_ns - self._minute_bar.end_ns) / SECOND_NS if self._minute_bar is not None else NAN
