"""Per-symbol feature vectors from the tick stream: the feature groups run one tick at a time.

``SymbolFeatures`` owns all feature state of one symbol, split into groups
(:mod:`operators.features.groups`): quotes and trades, bars and returns, the classic 1-minute
indicators, realized volatility, liquidity, order flow, then the configured indicators
(``FEATURE_NAMES`` are the names before the indicators). Trades build
1-second and 1-minute time bars (intervals without trades give no bar); every tick, trade or
quote, advances event time and so completes the bars it has moved past. Bar features describe
the **last completed** bar and indicators run on completed bars, so a row never uses data
stamped after its tick. A tick stamped before the symbol's event time (upstream validation
should reject these) is applied at the symbol's current event time.

Emission: a row is emitted at the first tick of each new emit interval, i.e. when
``ts_ns // emit_interval_ns`` exceeds that of the last emitted row, and it includes that tick.
``emit_interval_ns=0`` emits at every tick. ``flush()`` (end of input) emits the state after
the last tick if that tick has not been emitted yet. Each value carries quality flags
(:mod:`operators.features.feature_set`) from the input source its feature declares.

Depth messages (``BookSnapshot``, ``BookDelta``) advance event time like quotes and, from the
symbol's first one on, rebuild its order book (:class:`operators.book.tracker.BookTracker`): its
rows then end with the depth features, under the feature-set version of
:func:`operators.features.layout.depth_layout`. A symbol without depth messages builds no book,
and its rows are exactly those of a flow without books.

>>> from operators.messages import Trade, ValidTick
>>> features = SymbolFeatures("IBM", FeatureConfig())
>>> features.update(ValidTick(Trade("IBM", 1_000_000_000, 180.0, 100.0), "ticks", 0, 7))[0].get("last_price")
180.0
>>> features.update(ValidTick(Trade("IBM", 1_500_000_000, 180.5, 100.0), "ticks", 0, 8))
[]
>>> features.flush()[0].offset
8
"""

from __future__ import annotations

import math
import pickle
from typing import NamedTuple

import lz4.block

from operators.features.bars import Bar
from operators.features.config import FeatureConfig
from operators.features.feature_set import MISSING, STALE, WARMING_UP
from operators.features.groups import (
    BarsAndReturns,
    ConfiguredIndicators,
    LiquidityFeatures,
    MinuteIndicators,
    QuotesAndTrades,
    RealizedVolatility,
)
from operators.features.groups.base import MINUTE_BAR, SECOND_BAR
from operators.features.groups.order_flow import OrderFlowFeatures
from operators.features.layout import (
    ROW_FEATURE_NAMES,
    ConfigReference,
    depth_layout,
    FeatureLayout,
    feature_layout,
    feature_names,
    register_config,
)
from operators.book.tracker import BookTracker
from operators.ta.packed import PackedState
from operators.messages import BarReturn, BookDelta, BookSnapshot, DriftEvent, FeatureRow, Quote, Trade, ValidTick

FEATURE_NAMES = ROW_FEATURE_NAMES

__all__ = ["FEATURE_NAMES", "FeatureConfig", "FeatureLayout", "SymbolFeatures", "feature_layout", "feature_names",
           "register_config"]


class SymbolFeatures:
    """All feature state of one symbol; ``update`` returns the rows a tick emits (0 or 1)."""

    __slots__ = ("symbol", "config", "_layout", "_quotes", "_bars", "_indicators", "_realized", "_liquidity",
                 "_order_flow", "_configured", "_book", "_event_ts_ns", "_last_partition", "_last_offset",
                 "_last_emitted_interval", "_pending", "_bar_state")

    def __init__(self, symbol: str, config: FeatureConfig) -> None:
        if not isinstance(symbol, str) or not symbol:
            raise ValueError(f"symbol must be a non-empty string, got {symbol!r}")
        if not isinstance(config, FeatureConfig):
            raise ValueError(f"config must be a FeatureConfig, got {config!r}")
        self.symbol = symbol
        self.config = config
        register_config(config)
        self._reset()

    def _reset(self) -> None:
        config = self.config
        layout = self._layout = feature_layout(config)
        self._quotes = QuotesAndTrades(config.flow_window_ns, config.quote_lag_ns_for(self.symbol))
        self._bars = BarsAndReturns(self.symbol, config.ewma_lambda)
        self._indicators = MinuteIndicators(config.rsi_period, config.bollinger_period, config.bollinger_width,
                                            config.atr_period, config.macd_fast_period, config.macd_slow_period,
                                            config.macd_signal_period)
        self._realized = RealizedVolatility(config.realized_window)
        self._liquidity = LiquidityFeatures(config.liquidity_window, config.roll_window)
        self._order_flow = OrderFlowFeatures()
        self._configured = ConfiguredIndicators(config.indicators, layout.indicator_classes, layout.indicator_outputs,
                                                layout.indicator_sources)
        self._book: BookTracker | None = None  # built by the symbol's first depth message
        self._event_ts_ns: int | None = None
        self._last_partition = 0
        self._last_offset = 0
        self._last_emitted_interval: int | None = None
        self._pending = False
        # The state of the groups that change only when a bar completes (_BAR_DRIVEN), pickled and
        # LZ4-compressed (about 6 of their 11 KB), kept from one snapshot to the next until a bar changes
        # them (None: changed since): 1-minute groups are packed once a minute, not every snapshot.
        self._bar_state: bytes | None = None

    def reset(self) -> None:
        self._reset()

    def __reduce__(self) -> tuple[object, tuple]:
        # The tree of groups, windows and indicators as flat tuples of scalars and bytes, by packs
        # generated once per feature set (operators.ta.packed): pickling them is all C, where the
        # tree would cost a Python call per object. The config is the same object for every symbol
        # of a flow, so a snapshot names it by its feature-set version; the layout and the
        # indicators' specs follow from it. The groups that change only when a bar completes (the
        # indicators, realized volatility) are pickled apart, once per bar (``_bar_state``), not at
        # every snapshot.
        version = self._layout.version
        packs = _resolved(version, self.config)[1]
        bar_state = self._bar_state
        if bar_state is None:
            parts = []
            for name, pack in zip(_BAR_DRIVEN, packs.bar_driven):
                group = getattr(self, name)
                packed = pack.pack(group)
                parts.append(group if packed is None else packed)
            bar_state = self._bar_state = lz4.block.compress(pickle.dumps(tuple(parts), protocol=pickle.HIGHEST_PROTOCOL))
        packed = packs.rest.pack(self)
        if packed is None:  # not the prototype's shape: every slot as it is (never taken by the groups of today)
            packed = {name: getattr(self, name) for name in self.__slots__ if name not in _BY_BAR_STATE}
        return _resumed, (version, packed, bar_state, self._configured._closes)

    @property
    def ready(self) -> bool:
        """True once every classic 1-minute indicator has warmed up."""
        return self._indicators.ready

    @property
    def value(self) -> tuple[float, ...]:
        """The current feature values, aligned with ``feature_names(config)``."""
        return self._values(self._event_ts_ns if self._event_ts_ns is not None else 0)

    def update(self, tick: ValidTick) -> list[FeatureRow]:
        item = tick.tick
        if item.symbol != self.symbol:
            raise ValueError(f"SymbolFeatures({self.symbol!r}) got a tick for symbol {item.symbol!r}")
        ts_ns = item.ts_ns
        previous_ts_ns = self._event_ts_ns
        if previous_ts_ns is not None and ts_ns < previous_ts_ns:
            ts_ns = previous_ts_ns
        self._event_ts_ns = ts_ns
        self._last_partition = tick.partition
        self._last_offset = tick.offset
        kind = type(item)
        if kind is Trade:
            self._apply_trade(ts_ns, item)
        elif kind is Quote:
            self._apply_quote(ts_ns, item)
        else:
            self._apply_book(ts_ns, item)
        interval = self.config.emit_interval_ns
        if interval:
            index = ts_ns // interval
            last = self._last_emitted_interval
            if last is not None and index <= last:
                self._pending = True
                return []
            self._last_emitted_interval = index
        self._pending = False
        return [self._row()]

    def flush(self) -> list[FeatureRow]:
        """End of input: the row for the last tick if it has not been emitted yet."""
        if not self._pending:
            return []
        self._pending = False
        return [self._row()]

    def _apply_trade(self, ts_ns: int, trade: Trade) -> None:
        price = trade.price
        side = trade.side
        inferred = self._quotes.classify(ts_ns, price)
        if side == "unknown":
            side = inferred
        self._on_bars(*self._bars.on_trade(ts_ns, price, trade.size, side))
        self._quotes.on_trade(ts_ns, price, trade.size, side)
        self._order_flow.on_trade(ts_ns, price, trade.size, side)
        self._liquidity.on_trade(price)
        if self._book is not None:
            self._book.on_trade(ts_ns, trade.size)

    def _apply_quote(self, ts_ns: int, quote: Quote) -> None:
        self._on_bars(*self._bars.advance(ts_ns))
        self._quotes.on_quote(ts_ns, quote.bid, quote.ask, quote.bid_size, quote.ask_size)
        self._liquidity.on_quote(ts_ns, quote.bid, quote.ask)
        self._order_flow.on_quote(ts_ns, quote.bid, quote.ask, quote.bid_size, quote.ask_size)

    def _apply_book(self, ts_ns: int, message: BookSnapshot | BookDelta) -> None:
        self._on_bars(*self._bars.advance(ts_ns))
        if self._book is None:
            self._book = BookTracker(self.symbol)
        self._book.apply(message, ts_ns)

    @property
    def has_book_events(self) -> bool:
        """True when ``drain_book_events`` has something to give."""
        return self._book is not None and self._book.has_events

    def drain_book_events(self) -> list[DriftEvent]:
        """The ``book_gap`` / ``book_crossed`` monitor events since the last call (``operators.book.tracker``)."""
        return self._book.drain_events() if self._book is not None else []

    def _on_bars(self, second_bar: Bar | None, minute_bar: Bar | None) -> None:
        if second_bar is not None and self._configured.on_bar(second_bar, SECOND_BAR):
            self._bar_state = None
        if minute_bar is not None:
            self._indicators.on_minute_bar(minute_bar)
            self._realized.on_minute_bar(minute_bar)
            self._liquidity.on_minute_bar(minute_bar)
            self._configured.on_bar(minute_bar, MINUTE_BAR)
            self._bar_state = None

    @property
    def has_returns(self) -> bool:
        """True when ``drain_returns`` has something to give."""
        return self._bars.has_returns

    def drain_returns(self) -> list[BarReturn]:
        """The 1-minute bar returns completed since the last call (for cross-asset statistics)."""
        return self._bars.drain_returns()

    def _values(self, ts_ns: int) -> tuple[float, ...]:
        return (self._quotes.values(ts_ns) + self._bars.values(ts_ns) + self._indicators.values(ts_ns)
                + self._realized.values(ts_ns) + self._liquidity.values(ts_ns) + self._order_flow.values(ts_ns)
                + self._configured.values(ts_ns))

    def _row(self) -> FeatureRow:
        ts_ns = self._event_ts_ns
        assert ts_ns is not None
        values = self._values(ts_ns)
        # The reference price: the mid while the quote is valid, else the last trade. Labels,
        # outcomes and decisions are priced on it, so none of them sees the bid-ask bounce.
        price = values[1]
        if not 0.0 < price < math.inf:
            price = values[0]
        layout = self._layout
        names, version = layout.names, layout.version
        quality = self._quality(ts_ns, values, layout.sources)
        book = self._book
        if book is not None:
            names, version = depth_layout(names, version)
            depth = book.values(ts_ns)
            values += depth
            quality += book.quality(ts_ns, depth, self.config.stale_after_ns)
        return FeatureRow(symbol=self.symbol, ts_ns=ts_ns, partition=self._last_partition, offset=self._last_offset,
                          price=price, names=names, values=values, feature_set=version, quality=quality)

    def _quality(self, ts_ns: int, values: tuple[float, ...], sources: tuple[int, ...]) -> tuple[int, ...]:
        """Per value: STALE when its source's newest input is too old, MISSING / WARMING_UP when NaN."""
        second_bar, minute_bar = self._bars.second_bar, self._bars.minute_bar
        latest = (self._quotes.quote_ts_ns, self._quotes.trade_ts_ns,
                  second_bar.end_ns if second_bar is not None else None,
                  minute_bar.end_ns if minute_bar is not None else None)
        stale_after = self.config.stale_after_ns
        stale = tuple(STALE if seen is not None and ts_ns - seen > stale_after else 0 for seen in latest)
        empty = tuple(WARMING_UP if seen is not None else MISSING for seen in latest)
        return tuple(stale[source] | empty[source] if value != value else stale[source]
                     for value, source in zip(values, sources))


#: Slots whose value is the same for every symbol of a feature set (the config and what follows
#: from it): a snapshot leaves them out, and a restore takes them from the feature set's prototype.
_SHARED = frozenset({"SymbolFeatures.config", "SymbolFeatures._layout", "ConfiguredIndicators._specs",
                     "ConfiguredIndicators._outputs", "ConfiguredIndicators._sources", "ConfiguredIndicators._packers"})
#: The groups that change only when a bar completes, which the bar state holds (the configured
#: indicators' latest closes, which every 1-second bar moves, are stored apart).
_BAR_DRIVEN = ("_indicators", "_realized", "_configured")
#: Slots a snapshot stores apart: the config and layout, the bar-driven groups and their bar state.
_BY_BAR_STATE = ("config", "_layout", *_BAR_DRIVEN, "_bar_state")


class _Packs(NamedTuple):
    """The packs of a feature set's symbol state: all but the bar state, and each bar-driven group."""

    rest: PackedState
    bar_driven: tuple[PackedState, ...]


#: Per feature-set version: a fresh symbol of its config (the prototype) and the packs of its shape.
_RESOLVED: dict[str, tuple[SymbolFeatures, _Packs]] = {}


def _resolved(version: str, config: FeatureConfig | None = None) -> tuple[SymbolFeatures, _Packs]:
    """A fresh symbol of feature set ``version`` (of ``config`` if given, else of the registered
    config) and :class:`PackedState`\\ s generated from its tree."""
    found = _RESOLVED.get(version)
    if found is None:
        prototype = SymbolFeatures("PROTOTYPE", ConfigReference(version).resolve() if config is None else config)
        packs = _Packs(
            PackedState(prototype, within="operators.", shared=_SHARED,
                        leave=frozenset(f"SymbolFeatures.{name}" for name in _BY_BAR_STATE[2:])),
            tuple(PackedState(getattr(prototype, name), within="operators.", shared=_SHARED,
                              leave=frozenset({"ConfiguredIndicators._closes"})) for name in _BAR_DRIVEN))
        found = _RESOLVED[version] = (prototype, packs)
    return found


def _resumed(version: str, packed: tuple | dict[str, object], bar_state: bytes,
             closes: dict[int, float]) -> SymbolFeatures:
    """The symbol's features that ``SymbolFeatures.__reduce__`` described."""
    prototype, packs = _resolved(version)
    if type(packed) is dict:
        features = SymbolFeatures.__new__(SymbolFeatures)
        for name, value in packed.items():
            object.__setattr__(features, name, value)
        features.config = prototype.config
        features._layout = prototype._layout
    else:
        features = packs.rest.unpack(packed)
    parts = pickle.loads(lz4.block.decompress(bar_state))  # noqa: S301 - our own recovery snapshot
    for name, pack, part in zip(_BAR_DRIVEN, packs.bar_driven, parts):
        object.__setattr__(features, name, pack.unpack(part) if type(part) is tuple else part)
    features._configured._closes = closes
    features._bar_state = bar_state  # what the bar-driven groups still are
    return features
