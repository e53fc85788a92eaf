"""Liquidity features: price impact, illiquidity, implied spread and quote staleness.

Kyle's lambda and Amihud's illiquidity run on 1-minute bars over the last ``window`` bars,
Roll's spread on trade prices over the last ``roll_window`` changes
(:mod:`operators.features.liquidity` has the estimators). Lambda is scaled to basis points of
the last 1-minute close per 1,000 shares of signed volume, Roll's spread to basis points of the
last trade price.

>>> group = LiquidityFeatures(window=3, roll_window=3)
>>> group.on_quote(0, 10.0, 10.02)
>>> group.values(1_500_000_000)[-1]
1.5
"""

from __future__ import annotations

from operators.features.bars import Bar
from operators.features.groups.base import MINUTE_BAR, NAN, QUOTE, TRADE, FeatureGroup, feature, finite
from operators.features.liquidity import AmihudIlliquidity, KyleLambda, QuoteStaleness, RollSpread


class LiquidityFeatures(FeatureGroup):
    """Kyle's lambda, Amihud illiquidity, Roll's spread and quote staleness."""

    __slots__ = ("_kyle", "_amihud", "_roll", "_staleness", "_minute_close", "_last_price")

    def __init__(self, window: int, roll_window: int) -> None:
        self._kyle = KyleLambda(window)
        self._amihud = AmihudIlliquidity(window)
        self._roll = RollSpread(roll_window)
        self._staleness = QuoteStaleness()
        self._minute_close = NAN
        self._last_price = NAN

    def on_trade(self, price: float) -> None:
        self._roll.update(price)
        self._last_price = price

    def on_quote(self, ts_ns: int, bid: float, ask: float) -> None:
        self._staleness.update(ts_ns, bid, ask)

    def on_minute_bar(self, bar: Bar) -> None:
        self._minute_close = bar.close
        self._kyle.update(bar.close, bar.buy_volume - bar.sell_volume)
        self._amihud.update(bar.close, bar.vwap * bar.volume)

    @feature(MINUTE_BAR)
    def kyle_lambda_bps_1m(self, now_ns: int) -> float:
        """Kyle's lambda: bps of the 1 min close moved per 1,000 shares of signed volume"""
        close = self._minute_close
        return finite(self._kyle.value * 1000.0 / close * 1e4) if close > 0.0 else NAN

    @feature(MINUTE_BAR)
    def amihud_illiquidity_1m(self, now_ns: int) -> float:
        """mean absolute log return per million of notional over 1 min bars"""
        return self._amihud.value

    @feature(TRADE)
    def roll_spread_bps(self, now_ns: int) -> float:
        """Roll's implied spread in bps of the last trade price"""
        last_price = self._last_price
        return self._roll.value / last_price * 1e4 if last_price > 0.0 else NAN

    @feature(QUOTE)
    def quote_staleness_seconds(self, now_ns: int) -> float:
        """event time since the best bid or ask last changed"""
        return self._staleness.seconds(now_ns)
