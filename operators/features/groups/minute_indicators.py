"""The classic indicators on completed 1-minute bars, from the TA-Lib-exact catalogue.

RSI, Bollinger bands, ATR and MACD are the catalogue's ``RSI``, ``BBANDS`` (simple average,
``nbdevup = nbdevdn = bollinger_width``), ``ATR`` and ``MACD``, so each equals TA-Lib's batch
function over the same bars. Each value is NaN until its indicator has warmed up.

>>> group = MinuteIndicators(rsi_period=2, bollinger_period=2, bollinger_width=2.0, atr_period=2,
...                          macd_fast_period=2, macd_slow_period=3, macd_signal_period=2)
>>> for close in [10.0, 11.0, 10.5]:
...     group.on_minute_bar(Bar(0, 0, close, close + 0.5, close - 0.5, close, 1.0, close, 1, 0.0, 0.0))
>>> round(dict(zip(group.names, group.values(0)))["rsi_1m"], 6)
66.666667
"""

from __future__ import annotations

from operators.features.bars import Bar
from operators.features.groups.base import MINUTE_BAR, NAN, FeatureGroup, feature, finite
from operators.ta.indicators.catalogue import indicator_class


class MinuteIndicators(FeatureGroup):
    """RSI, Bollinger %B, ATR (absolute and in bps of the close) and MACD of 1-minute bars."""

    __slots__ = ("_rsi", "_bands", "_atr", "_macd", "_close")

    def __init__(self, rsi_period: int, bollinger_period: int, bollinger_width: float, atr_period: int,
                 macd_fast_period: int, macd_slow_period: int, macd_signal_period: int) -> None:
        self._rsi = indicator_class("RSI")(timeperiod=rsi_period)
        self._bands = indicator_class("BBANDS")(timeperiod=bollinger_period, nbdevup=bollinger_width,
                                                nbdevdn=bollinger_width, matype=0)
        self._atr = indicator_class("ATR")(timeperiod=atr_period)
        self._macd = indicator_class("MACD")(fastperiod=macd_fast_period, slowperiod=macd_slow_period,
                                             signalperiod=macd_signal_period)
        self._close = NAN

    @property
    def ready(self) -> bool:
        """True once every indicator has warmed up."""
        return self._macd.ready and self._rsi.ready and self._bands.ready and self._atr.ready

    def on_minute_bar(self, bar: Bar) -> None:
        close = bar.close
        self._close = close
        self._rsi.update(close)
        self._bands.update(close)
        self._atr.update(bar.high, bar.low, close)
        self._macd.update(close)

    @feature(MINUTE_BAR)
    def rsi_1m(self, now_ns: int) -> float:
        """Wilder RSI of 1 min closes"""
        return self._rsi.value

    @feature(MINUTE_BAR)
    def bollinger_percent_b_1m(self, now_ns: int) -> float:
        """Bollinger %B of 1 min closes: (close - lower) / (upper - lower)"""
        upper, _, lower = self._bands.values
        width = upper - lower
        return finite((self._close - lower) / width) if width > 0.0 else NAN

    @feature(MINUTE_BAR)
    def atr_1m(self, now_ns: int) -> float:
        """Wilder ATR of 1 min bars"""
        return self._atr.value

    @feature(MINUTE_BAR)
    def atr_bps_1m(self, now_ns: int) -> float:
        """atr_1m / last 1 min close in bps"""
        close = self._close
        return self._atr.value / close * 1e4 if close > 0.0 else NAN

    @feature(MINUTE_BAR)
    def macd_1m(self, now_ns: int) -> float:
        """MACD line of 1 min closes"""
        return self._macd.values[0]

    @feature(MINUTE_BAR)
    def macd_signal_1m(self, now_ns: int) -> float:
        """MACD signal line"""
        return self._macd.values[1]

    @feature(MINUTE_BAR)
    def macd_histogram_1m(self, now_ns: int) -> float:
        """MACD - signal"""
        return self._macd.values[2]
