"""The underlying's option features in its own feature rows, as of the last closed minute of its chain.

The per-symbol feature step holds one :class:`OptionJoin` per symbol. Every tick of the symbol's
stream goes to :meth:`OptionJoin.update` first: its own quotes (the chain's spot) and the option
messages keyed by it, in the partition's order. An option message starts the symbol's chain
(a :class:`~operators.options.minute.MinuteChainLogic` that keeps the features only: the chain read
as European, no trees, no SVI fits). Minutes close in event time as in the history half's options
step, so :meth:`OptionJoin.extend` gives a feature row stamped ``t`` the features of the last
minute that ended before ``t`` (one ending at ``t`` itself closes with the first message after
it, since messages stamped ``t`` still belong to it): a function of the ordered stream, the same live and in
replay, never later information. The names are ``opt_<feature>`` plus ``opt_age_s`` (seconds
from that minute's end to the row); before a symbol's first closed minute they are NaN with
quality flag 1 (missing input).

>>> import datetime as dt
>>> from operators.messages import FeatureRow, Quote
>>> from operators.options.chain import ChainConfig
>>> from operators.options.contract import contract
>>> from operators.options.messages import OptionQuote
>>> from operators.options.rates import RateCurve
>>> config = ChainConfig(RateCurve([(dt.date(2015, 12, 1), 0.5)]))
>>> join, settings = OptionJoin("GOOG"), lambda: config
>>> noon = 1_450_976_400_000_000_000  # 2015-12-24 12:00 New York
>>> join.update(Quote("GOOG", noon - 10**9, 749.9, 750.1, 100, 100), settings)
>>> join.extend(FeatureRow("GOOG", noon - 10**9, 0, 1, 750.0, ("mid",), (750.0,))).get("opt_atm_iv")
nan
>>> for strike, right, bid, ask in ((745.0, "P", 12.2, 12.6), (755.0, "C", 12.1, 12.5)):
...     join.update(OptionQuote(contract("GOOG", dt.date(2016, 1, 15), strike, right), noon, bid, ask, 10, 10), settings)
>>> join.update(Quote("GOOG", noon + 30 * 10**9, 749.9, 750.1, 100, 100), settings)  # closes the minute ending at noon
>>> row = join.extend(FeatureRow("GOOG", noon + 30 * 10**9, 0, 2, 750.0, ("mid",), (750.0,)))
>>> row.feature_set, round(row.get("opt_atm_iv"), 4), row.get("opt_age_s")
('+options1', 0.1995, 30.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import msgspec

from operators.messages import FeatureRow, Quote, Trade
from operators.options.chain import ChainConfig
from operators.options.messages import OPTION_TYPES, OptionOpenInterest, OptionQuote, OptionTrade
from operators.options.minute import MinuteChainLogic
from operators.options.surface import FEATURES

__all__ = ["OPTION_FEATURE_SET", "OPTION_ROW_FEATURES", "OptionJoin"]

#: Appended to a row's ``feature_set`` when the option features join it (bump when they change).
OPTION_FEATURE_SET = "+options1"
#: The names appended to every feature row, in order.
OPTION_ROW_FEATURES = tuple(f"opt_{name}" for name in FEATURES) + ("opt_age_s",)
_NAN_VALUES = (math.nan,) * len(OPTION_ROW_FEATURES)


class OptionJoin:
    """One symbol's chain (from its first option message on) and its last closed minute's features.

    ``update``'s ``config`` gives the chain settings when the first option message arrives (the rate curve is
    read then, once, and a symbol without options never needs it). ``update``'s ``offset`` (the
    source offset; a symbol's messages share one partition) skips a message taken before, as the
    history half's options step does.
    """

    __slots__ = ("last_offset", "last_quote", "logic", "minute_ns", "symbol", "values")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.logic: MinuteChainLogic | None = None
        self.last_quote: Quote | None = None  # the spot a chain starts from, kept until its first option message
        self.last_offset = -1
        self.minute_ns = -1  # end of the last closed minute
        self.values: tuple[float, ...] = ()

    def update(self, tick: Quote | Trade | OptionQuote | OptionTrade | OptionOpenInterest | object,
               config: Callable[[], ChainConfig], offset: int | None = None) -> None:
        """Take one tick of the symbol's stream (other kinds of message change nothing)."""
        if offset is not None:
            if offset <= self.last_offset:
                return
            self.last_offset = offset
        logic = self.logic
        if logic is None:
            if type(tick) is Quote:
                self.last_quote = tick
            if not isinstance(tick, OPTION_TYPES):
                return
            logic = self.logic = MinuteChainLogic(self.symbol, config(), rows=False)
            if self.last_quote is not None:
                logic.on_message(self.last_quote)
                self.last_quote = None
        elif not isinstance(tick, (Quote, Trade, *OPTION_TYPES)):
            return
        for minute in logic.on_message(tick):
            self.minute_ns = minute.ts_ns
            # A minute without a quoted contract has no features: missing, like no chain at all.
            self.values = tuple(float(minute.features[name]) for name in FEATURES) if minute.features else ()

    def extend(self, row: FeatureRow) -> FeatureRow:
        """``row`` with ``OPTION_ROW_FEATURES`` as of its time appended."""
        if self.values and self.minute_ns <= row.ts_ns:
            values, flag = self.values + ((row.ts_ns - self.minute_ns) / 1e9,), 0
        else:
            values, flag = _NAN_VALUES, 1
        quality = row.quality + (flag,) * len(values) if row.quality else ()
        return msgspec.structs.replace(row, names=row.names + OPTION_ROW_FEATURES, values=row.values + values,
                                       feature_set=row.feature_set + OPTION_FEATURE_SET, quality=quality)
