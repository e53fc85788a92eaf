"""The classic indicators on completed 1-minute bars, from the TA-Lib-exact catalogue.

RSI, Bollinger bands, ATR and MACD are the catalogue's ``RSI``, ``BBANDS`` (simple average,
``nbdevup = nbdevdn = bollinger_width``), ``ATR`` and ``MACD``, so each equals TA-Lib's batch
function over the same bars. Each value is NaN until its indicator has warmed up. A snapshot
holds each indicator packed into one flat tuple (:class:`operators.ta.packed.PackedState`).

>>> group = MinuteIndicators(rsi_period=2, bollinger_period=2, bollinger_width=2.0, atr_period=2,
...                          macd_fast_period=2, macd_slow_period=3, macd_signal_period=2)
>>> for close in [10.0, 11.0, 10.5]:
...     group.on_minute_bar(Bar(0, 0, close, close + 0.5, close - 0.5, close, 1.0, close, 1, 0.0, 0.0))
>>> round(dict(zip(group.names, group.values(0)))["rsi_1m"], 6)
66.666667
"""

from __future__ import annotations

from functools import cache

from operators.features.bars import Bar
from operators.features.groups.base import MINUTE_BAR, NAN, FeatureGroup, feature, finite
from operators.ta.base import Indicator
from operators.ta.indicators.catalogue import indicator_class
from operators.ta.packed import PackedState

#: rsi_period, bollinger_period, bollinger_width, atr_period, macd_fast_period, macd_slow_period, macd_signal_period
Settings = tuple[int, int, float, int, int, int, int]


def _indicators(settings: Settings) -> tuple[Indicator, Indicator, Indicator, Indicator]:
    """Fresh RSI, Bollinger bands, ATR and MACD with ``settings``."""
    rsi_period, bollinger_period, bollinger_width, atr_period, macd_fast, macd_slow, macd_signal = settings
    return (indicator_class("RSI")(timeperiod=rsi_period),
            indicator_class("BBANDS")(timeperiod=bollinger_period, nbdevup=bollinger_width,
                                      nbdevdn=bollinger_width, matype=0),
            indicator_class("ATR")(timeperiod=atr_period),
            indicator_class("MACD")(fastperiod=macd_fast, slowperiod=macd_slow, signalperiod=macd_signal))


@cache
def _packers(settings: Settings) -> tuple[PackedState, ...]:
    """A :class:`PackedState` per indicator of ``settings``, made once per settings."""
    return tuple(PackedState(indicator) for indicator in _indicators(settings))


class MinuteIndicators(FeatureGroup):
    """RSI, Bollinger %B, ATR (absolute and in bps of the close) and MACD of 1-minute bars."""

    __slots__ = ("_settings", "_rsi", "_bands", "_atr", "_macd", "_close")

    def __init__(self, rsi_period: int, bollinger_period: int, bollinger_width: float, atr_period: int,
                 macd_fast_period: int, macd_slow_period: int, macd_signal_period: int) -> None:
        self._settings: Settings = (rsi_period, bollinger_period, bollinger_width, atr_period, macd_fast_period,
                                    macd_slow_period, macd_signal_period)
        self._rsi, self._bands, self._atr, self._macd = _indicators(self._settings)
        self._close = NAN

    def __reduce__(self) -> tuple[object, tuple]:
        states = []
        for packer, indicator in zip(_packers(self._settings), (self._rsi, self._bands, self._atr, self._macd)):
            packed = packer.pack(indicator)
            states.append(indicator if packed is None else packed)
        return _resumed, (self._settings, tuple(states), self._close)

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


def _resumed(settings: Settings, states: tuple[tuple | Indicator, ...], close: float) -> MinuteIndicators:
    """The group that ``MinuteIndicators.__reduce__`` described: each packed indicator unpacked."""
    group = MinuteIndicators.__new__(MinuteIndicators)
    group._settings = settings
    group._rsi, group._bands, group._atr, group._macd = (
        packer.unpack(state) if type(state) is tuple else state for packer, state in zip(_packers(settings), states))
    group._close = close
    return group
