"""Per-symbol feature vectors from the tick stream: bars, indicators, microstructure.

``SymbolFeatures`` owns all feature state of one symbol. Trades build 1-second and 1-minute
time bars (``operators.features.bars``; intervals without trades give no bar); every tick, trade or
quote, advances event time and so completes the bars it has moved past. Bar features always
describe the **last completed** bar, and indicators run on the sequence of completed 1-minute
bars, so a row never uses data stamped after its tick.

Emission: a row is emitted at the first tick of each new emit interval, i.e. when
``ts_ns // emit_interval_ns`` exceeds that of the last emitted row, and it includes that tick.
``emit_interval_ns=0`` emits at every tick. ``flush()`` (end of input) emits the state after
the last tick if that tick has not been emitted yet.

Features (``FEATURE_NAMES``, in order; NaN until available, never inf):

=============================  ==========================================================
``last_price``                 last trade price
``mid``, ``spread``            latest best quote: mid, ask - bid
``spread_bps``                 spread in basis points of mid
``microprice``                 size-weighted mid
``microprice_deviation_bps``   (microprice - mid) / mid in bps
``quote_imbalance``            (bid_size - ask_size) / (bid_size + ask_size)
``order_flow_imbalance``       CKS OFI over ``flow_window_ns``, divided by mean depth
``signed_volume_imbalance``    (buy - sell) / (buy + sell) volume over ``flow_window_ns``
``last_trade_age_seconds``     event time since the last trade
``quote_age_seconds``          event time since the last quote
``log_return_1s``              log(close / previous close) of the last two 1 s bars
``ewma_volatility_1s``         RiskMetrics volatility of 1 s bar log returns
``log_return_1m``              log(close / previous close) of the last two 1 min bars
``ewma_volatility_1m``         RiskMetrics volatility of 1 min bar log returns
``vwap_1m``                    VWAP of the last 1 min bar
``vwap_deviation_1m``          log(last_price / vwap_1m)
``volume_1m``                  volume of the last 1 min bar
``trade_count_1m``             trades in the last 1 min bar
``bar_age_seconds_1m``         event time since the end of the last 1 min bar
``rsi_1m``                     Wilder RSI of 1 min closes
``bollinger_percent_b_1m``     Bollinger %B of 1 min closes
``atr_1m``                     Wilder ATR of 1 min bars
``atr_bps_1m``                 atr_1m / last 1 min close in bps
``macd_1m``                    MACD line of 1 min closes
``macd_signal_1m``             MACD signal line
``macd_histogram_1m``          MACD - signal
=============================  ==========================================================

"Previous close" is the close of the previous bar that had trades; the returns and
volatilities are per bar, not annualised. A tick stamped before the symbol's event time
(upstream validation should reject these) is applied at the symbol's current event time.

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
from dataclasses import asdict, dataclass
from functools import lru_cache

from operators.features.bars import Bar, TimeBarBuilder
from operators.ta.indicators import (
    AverageTrueRange,
    BollingerPercentB,
    EwmaVolatility,
    MovingAverageConvergenceDivergence,
    RelativeStrengthIndex,
)
from operators.features.feature_set import DEFAULT_INDICATORS, MISSING, STALE, WARMING_UP, IndicatorFeature, feature_set_version
from operators.features.liquidity import AmihudIlliquidity, KyleLambda, LaggedMid, QuoteStaleness, RollSpread
from operators.messages import BarReturn, FeatureRow, Trade, ValidTick
from operators.features.microstructure import OrderFlowImbalance, SignedVolumeImbalance, TradeSideClassifier
from operators.features.realized_variance import RealizedVariance

FEATURE_NAMES: tuple[str, ...] = (
    "last_price",
    "mid",
    "spread",
    "spread_bps",
    "microprice",
    "microprice_deviation_bps",
    "quote_imbalance",
    "order_flow_imbalance",
    "signed_volume_imbalance",
    "last_trade_age_seconds",
    "quote_age_seconds",
    "log_return_1s",
    "ewma_volatility_1s",
    "log_return_1m",
    "ewma_volatility_1m",
    "vwap_1m",
    "vwap_deviation_1m",
    "volume_1m",
    "trade_count_1m",
    "bar_age_seconds_1m",
    "rsi_1m",
    "bollinger_percent_b_1m",
    "atr_1m",
    "atr_bps_1m",
    "macd_1m",
    "macd_signal_1m",
    "macd_histogram_1m",
    "realized_volatility_close_1m",
    "realized_volatility_parkinson_1m",
    "realized_volatility_garman_klass_1m",
    "realized_volatility_rogers_satchell_1m",
    "realized_volatility_yang_zhang_1m",
    "kyle_lambda_bps_1m",
    "amihud_illiquidity_1m",
    "roll_spread_bps",
    "quote_staleness_seconds",
)

# Where each core feature's input comes from, for the quality flags.
_QUOTE, _TRADE, _SECOND_BAR, _MINUTE_BAR = 0, 1, 2, 3
_CORE_SOURCES: tuple[int, ...] = (
    _TRADE, _QUOTE, _QUOTE, _QUOTE, _QUOTE, _QUOTE, _QUOTE, _QUOTE, _TRADE, _TRADE, _QUOTE,
    _SECOND_BAR, _SECOND_BAR, _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR,
    _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR,
    _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR, _MINUTE_BAR, _TRADE, _QUOTE,
)
assert len(_CORE_SOURCES) == len(FEATURE_NAMES)

NAN = math.nan
SECOND_NS = 1_000_000_000
MINUTE_NS = 60 * SECOND_NS


def _positive_int(name: str, value: object, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"FeatureConfig.{name} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Settings of the feature step, validated on construction."""

    emit_interval_ns: int = SECOND_NS
    rsi_period: int = 14
    bollinger_period: int = 20
    bollinger_width: float = 2.0
    atr_period: int = 14
    macd_fast_period: int = 12
    macd_slow_period: int = 26
    macd_signal_period: int = 9
    ewma_lambda: float = 0.94
    flow_window_ns: int = 10 * SECOND_NS
    realized_window: int = 30
    liquidity_window: int = 30
    roll_window: int = 100
    quote_lag_ns: int = 0
    stale_after_ns: int = 120 * SECOND_NS
    indicators: tuple[IndicatorFeature, ...] = DEFAULT_INDICATORS

    def __post_init__(self) -> None:
        _positive_int("realized_window", self.realized_window, minimum=2)
        _positive_int("liquidity_window", self.liquidity_window, minimum=3)
        _positive_int("roll_window", self.roll_window, minimum=3)
        _positive_int("quote_lag_ns", self.quote_lag_ns, minimum=0)
        _positive_int("stale_after_ns", self.stale_after_ns)
        names = [spec.name for spec in self.indicators]
        clashes = sorted({name for name in names if names.count(name) > 1 or name in FEATURE_NAMES})
        if clashes:
            raise ValueError(f"FeatureConfig.indicators must have unique names not among the core features, "
                             f"got {', '.join(clashes)} twice")
        _positive_int("emit_interval_ns", self.emit_interval_ns, minimum=0)
        _positive_int("rsi_period", self.rsi_period, minimum=2)
        _positive_int("bollinger_period", self.bollinger_period, minimum=2)
        _positive_int("atr_period", self.atr_period)
        _positive_int("macd_fast_period", self.macd_fast_period, minimum=2)
        _positive_int("macd_slow_period", self.macd_slow_period, minimum=2)
        _positive_int("macd_signal_period", self.macd_signal_period)
        _positive_int("flow_window_ns", self.flow_window_ns)
        if self.macd_fast_period >= self.macd_slow_period:
            raise ValueError(
                f"FeatureConfig.macd_fast_period must be < macd_slow_period, got "
                f"{self.macd_fast_period!r} and {self.macd_slow_period!r}"
            )
        width = self.bollinger_width
        if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0.0 < width < math.inf:
            raise ValueError(f"FeatureConfig.bollinger_width must be a positive finite number, got {width!r}")
        decay = self.ewma_lambda
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0.0 < decay < 1.0:
            raise ValueError(f"FeatureConfig.ewma_lambda must be strictly between 0 and 1, got {decay!r}")


def _finite(value: float) -> float:
    """Map inf (and NaN) to NaN so rows never carry inf."""
    return value if -math.inf < value < math.inf else NAN


@dataclass(frozen=True)
class FeatureLayout:
    """What a ``FeatureConfig`` produces: names, lineage hash, and how to build the indicators."""

    names: tuple[str, ...]
    version: str
    sources: tuple[int, ...]
    indicator_classes: tuple[type, ...]
    indicator_outputs: tuple[int, ...]


@lru_cache(maxsize=64)
def feature_layout(config: FeatureConfig) -> FeatureLayout:
    """The feature names and feature-set version of ``config`` (one clear error for a bad spec)."""
    from operators.ta.indicators.catalogue import indicator_class

    classes, outputs, sources = [], [], []
    for spec in config.indicators:
        indicator = indicator_class(spec.function)
        if "periods" in indicator.inputs:
            raise ValueError(f"feature {spec.name}: {spec.function} needs a periods series, which bars do not have")
        if spec.output is not None and spec.output not in indicator.outputs:
            raise ValueError(f"feature {spec.name}: {spec.function} has outputs {', '.join(indicator.outputs)}, "
                             f"not {spec.output!r}")
        try:
            indicator(**spec.parameters)
        except TypeError as error:
            raise ValueError(f"feature {spec.name}: bad parameters for {spec.function}: {error}") from None
        classes.append(indicator)
        outputs.append(0 if spec.output is None else indicator.outputs.index(spec.output))
        sources.append(_MINUTE_BAR if spec.bars == "1m" else _SECOND_BAR)
    settings = {key: value for key, value in asdict(config).items() if key != "indicators"}
    names = FEATURE_NAMES + tuple(spec.name for spec in config.indicators)
    return FeatureLayout(names=names, version=feature_set_version(FEATURE_NAMES, settings, config.indicators),
                         sources=_CORE_SOURCES + tuple(sources), indicator_classes=tuple(classes),
                         indicator_outputs=tuple(outputs))


def feature_names(config: FeatureConfig) -> tuple[str, ...]:
    return feature_layout(config).names


#: Feature configs seen in this process, by feature-set version: what a snapshot's ``_ConfigRef``
#: resolves to. ``SymbolLogicBuilder`` registers its config before it restores any state.
_known_configs: dict[str, FeatureConfig] = {}


def register_config(config: FeatureConfig) -> str:
    """Make ``config`` resolvable by snapshots that name its version; returns the version."""
    version = feature_layout(config).version
    _known_configs.setdefault(version, config)
    return version


class _ConfigRef(tuple):
    """A snapshot's reference to a ``FeatureConfig`` by feature-set version."""

    __slots__ = ()

    def __new__(cls, version: str) -> "_ConfigRef":
        return super().__new__(cls, (version,))

    def __getnewargs__(self) -> tuple[str]:
        return (self[0],)

    def resolve(self) -> FeatureConfig:
        config = _known_configs.get(self[0])
        if config is None:
            raise ValueError(f"restoring SymbolFeatures: the snapshot was made with feature set {self[0]}, which this "
                             f"process does not know; build its FeatureConfig first (SymbolLogicBuilder does)")
        return config


class SymbolFeatures:
    """All feature state of one symbol; ``update`` returns the rows a tick emits (0 or 1)."""

    __slots__ = (
        "symbol",
        "config",
        "_second_bars",
        "_minute_bars",
        "_second_volatility",
        "_minute_volatility",
        "_rsi",
        "_bollinger",
        "_atr",
        "_macd",
        "_order_flow",
        "_signed_volume",
        "_classifier",
        "_event_ts_ns",
        "_last_partition",
        "_last_offset",
        "_last_emitted_interval",
        "_pending",
        "_last_price",
        "_last_trade_ts_ns",
        "_bid",
        "_ask",
        "_bid_size",
        "_ask_size",
        "_quote_ts_ns",
        "_second_close",
        "_second_return",
        "_minute_bar",
        "_minute_return",
        "_second_bar",
        "_realized",
        "_kyle",
        "_amihud",
        "_roll",
        "_staleness",
        "_lagged_mid",
        "_indicators",
        "_bar_returns",
    )

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
        self._second_bars = TimeBarBuilder(SECOND_NS)
        self._minute_bars = TimeBarBuilder(MINUTE_NS)
        self._second_volatility = EwmaVolatility(config.ewma_lambda)
        self._minute_volatility = EwmaVolatility(config.ewma_lambda)
        self._rsi = RelativeStrengthIndex(config.rsi_period)
        self._bollinger = BollingerPercentB(config.bollinger_period, config.bollinger_width)
        self._atr = AverageTrueRange(config.atr_period)
        self._macd = MovingAverageConvergenceDivergence(
            config.macd_fast_period, config.macd_slow_period, config.macd_signal_period
        )
        self._order_flow = OrderFlowImbalance(config.flow_window_ns)
        self._signed_volume = SignedVolumeImbalance(config.flow_window_ns)
        self._classifier = TradeSideClassifier()
        self._event_ts_ns: int | None = None
        self._last_partition = 0
        self._last_offset = 0
        self._last_emitted_interval: int | None = None
        self._pending = False
        self._last_price = NAN
        self._last_trade_ts_ns: int | None = None
        self._bid = self._ask = self._bid_size = self._ask_size = NAN
        self._quote_ts_ns: int | None = None
        self._second_close = NAN
        self._second_return = NAN
        self._minute_bar: Bar | None = None
        self._minute_return = NAN
        self._second_bar: Bar | None = None
        self._realized = RealizedVariance(config.realized_window)
        self._kyle = KyleLambda(config.liquidity_window)
        self._amihud = AmihudIlliquidity(config.liquidity_window)
        self._roll = RollSpread(config.roll_window)
        self._staleness = QuoteStaleness()
        self._lagged_mid = LaggedMid(config.quote_lag_ns) if config.quote_lag_ns else None
        layout = feature_layout(config)
        self._indicators = [indicator(**spec.parameters)
                            for indicator, spec in zip(layout.indicator_classes, config.indicators)]
        self._bar_returns: list[BarReturn] = []

    def reset(self) -> None:
        self._reset()

    def __getstate__(self) -> dict[str, object]:
        # The config is the same object for every symbol of a flow: a snapshot names it by its
        # feature-set version (32 bytes) instead of pickling it into every key's state (1.4 KB).
        state = {name: getattr(self, name) for name in self.__slots__}
        state["config"] = _ConfigRef(feature_layout(self.config).version)
        return state

    def __setstate__(self, state: dict[str, object] | tuple[None, dict[str, object]]) -> None:
        slots = dict(state[1] if isinstance(state, tuple) else state)
        config = slots["config"]
        if isinstance(config, _ConfigRef):
            slots["config"] = config.resolve()
        for name in self.__slots__:
            object.__setattr__(self, name, slots[name])
        register_config(self.config)

    @property
    def ready(self) -> bool:
        """True once every indicator has warmed up."""
        return self._macd.ready and self._rsi.ready and self._bollinger.ready and self._atr.ready

    @property
    def value(self) -> tuple[float, ...]:
        """The current feature values, aligned with ``FEATURE_NAMES``."""
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
        if type(item) is Trade:
            self._apply_trade(ts_ns, item)
        else:
            self._apply_quote(ts_ns, item.bid, item.ask, item.bid_size, item.ask_size)
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
        size = trade.size
        side = trade.side
        lagged = self._lagged_mid
        mid = lagged.mid_at(ts_ns) if lagged is not None else 0.5 * (self._bid + self._ask)
        inferred = self._classifier.update(price, mid)
        if side == "unknown":
            side = inferred
        second_bar = self._second_bars.update(ts_ns, price, size, side)
        if second_bar is not None:
            self._on_second_bar(second_bar)
        minute_bar = self._minute_bars.update(ts_ns, price, size, side)
        if minute_bar is not None:
            self._on_minute_bar(minute_bar)
        self._signed_volume.update(ts_ns, size, side)
        self._roll.update(price)
        self._last_price = price
        self._last_trade_ts_ns = ts_ns

    def _apply_quote(self, ts_ns: int, bid: float, ask: float, bid_size: float, ask_size: float) -> None:
        second_bar = self._second_bars.advance(ts_ns)
        if second_bar is not None:
            self._on_second_bar(second_bar)
        minute_bar = self._minute_bars.advance(ts_ns)
        if minute_bar is not None:
            self._on_minute_bar(minute_bar)
        self._order_flow.update(ts_ns, bid, ask, bid_size, ask_size)
        self._staleness.update(ts_ns, bid, ask)
        if self._lagged_mid is not None:
            self._lagged_mid.update(ts_ns, bid, ask)
        self._bid = bid
        self._ask = ask
        self._bid_size = bid_size
        self._ask_size = ask_size
        self._quote_ts_ns = ts_ns

    def _on_second_bar(self, bar: Bar) -> None:
        close = bar.close
        previous = self._second_close
        self._second_return = math.log(close / previous) if previous > 0.0 and close > 0.0 else NAN
        self._second_close = close
        self._second_bar = bar
        if close > 0.0:
            self._second_volatility.update(close)
        self._update_indicators(bar, _SECOND_BAR)

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
        self._rsi.update(close)
        self._bollinger.update(close)
        self._atr.update(bar.high, bar.low, close)
        self._macd.update(close)
        self._realized.update(bar.open, bar.high, bar.low, close)
        self._kyle.update(close, bar.buy_volume - bar.sell_volume)
        self._amihud.update(close, bar.vwap * bar.volume)
        self._update_indicators(bar, _MINUTE_BAR)

    def _update_indicators(self, bar: Bar, source: int) -> None:
        layout = feature_layout(self.config)
        fields = {"open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close, "volume": bar.volume}
        for indicator, indicator_source in zip(self._indicators, layout.sources[len(FEATURE_NAMES):]):
            if indicator_source == source:
                indicator.update(*[fields[name] for name in indicator.inputs])

    @property
    def has_returns(self) -> bool:
        """True when ``drain_returns`` has something to give."""
        return bool(self._bar_returns)

    def drain_returns(self) -> list[BarReturn]:
        """The 1-minute bar returns completed since the last call (for cross-asset statistics)."""
        returns, self._bar_returns = self._bar_returns, []
        return returns

    def _row(self) -> FeatureRow:
        ts_ns = self._event_ts_ns
        assert ts_ns is not None
        values = self._values(ts_ns)
        price = self._last_price
        if price != price:
            price = values[1]  # mid
        layout = feature_layout(self.config)
        return FeatureRow(
            symbol=self.symbol,
            ts_ns=ts_ns,
            partition=self._last_partition,
            offset=self._last_offset,
            price=price,
            names=layout.names,
            values=values,
            feature_set=layout.version,
            quality=self._quality(ts_ns, values, layout.sources),
        )

    def _quality(self, ts_ns: int, values: tuple[float, ...], sources: tuple[int, ...]) -> tuple[int, ...]:
        stale_after = self.config.stale_after_ns
        quote_ts, trade_ts = self._quote_ts_ns, self._last_trade_ts_ns
        second_bar, minute_bar = self._second_bar, self._minute_bar
        seen = (quote_ts is not None, trade_ts is not None, second_bar is not None, minute_bar is not None)
        stale = (
            STALE if quote_ts is not None and ts_ns - quote_ts > stale_after else 0,
            STALE if trade_ts is not None and ts_ns - trade_ts > stale_after else 0,
            STALE if second_bar is not None and ts_ns - second_bar.end_ns > stale_after else 0,
            STALE if minute_bar is not None and ts_ns - minute_bar.end_ns > stale_after else 0,
        )
        empty = tuple(WARMING_UP if present else MISSING for present in seen)
        return tuple(stale[source] | empty[source] if value != value else stale[source]
                     for value, source in zip(values, sources))

    def _values(self, ts_ns: int) -> tuple[float, ...]:
        # Bring the rolling windows to event time before reading them.
        self._order_flow.advance(ts_ns)
        self._signed_volume.advance(ts_ns)
        bid, ask, bid_size, ask_size = self._bid, self._ask, self._bid_size, self._ask_size
        mid = 0.5 * (bid + ask)
        spread = ask - bid
        depth = bid_size + ask_size
        if mid > 0.0:
            spread_bps = spread / mid * 1e4
        else:
            mid = spread = spread_bps = NAN
        if depth > 0.0 and mid == mid:
            microprice = (bid * ask_size + ask * bid_size) / depth
            microprice_deviation_bps = (microprice - mid) / mid * 1e4
            quote_imbalance = (bid_size - ask_size) / depth
        else:
            microprice = microprice_deviation_bps = quote_imbalance = NAN
        last_price = self._last_price
        last_trade_ts_ns = self._last_trade_ts_ns
        quote_ts_ns = self._quote_ts_ns
        bar = self._minute_bar
        if bar is not None:
            vwap = bar.vwap
            vwap_deviation = math.log(last_price / vwap) if vwap > 0.0 and last_price > 0.0 else NAN
            volume = bar.volume
            trade_count = float(bar.trade_count)
            bar_age = (ts_ns - bar.end_ns) / SECOND_NS
            close = bar.close
        else:
            vwap = vwap_deviation = volume = trade_count = bar_age = close = NAN
        atr = self._atr.value
        macd = self._macd
        return (
            last_price,
            mid,
            spread,
            spread_bps,
            microprice,
            microprice_deviation_bps,
            quote_imbalance,
            _finite(self._order_flow.value),
            self._signed_volume.value,
            (ts_ns - last_trade_ts_ns) / SECOND_NS if last_trade_ts_ns is not None else NAN,
            (ts_ns - quote_ts_ns) / SECOND_NS if quote_ts_ns is not None else NAN,
            self._second_return,
            self._second_volatility.value,
            self._minute_return,
            self._minute_volatility.value,
            vwap,
            vwap_deviation,
            volume,
            trade_count,
            bar_age,
            self._rsi.value,
            _finite(self._bollinger.value),
            atr,
            atr / close * 1e4 if close > 0.0 else NAN,
            macd.value,
            macd.signal,
            macd.histogram,
            *self._extras(close),
            *self._indicator_values(),
        )

    def _extras(self, minute_close: float) -> tuple[float, ...]:
        realized = self._realized
        kyle = self._kyle.value
        last_price = self._last_price
        roll = self._roll.value
        return (
            math.sqrt(realized.close_to_close) if realized.ready else NAN,
            math.sqrt(realized.parkinson) if realized.ready else NAN,
            math.sqrt(max(0.0, realized.garman_klass)) if realized.ready else NAN,
            math.sqrt(max(0.0, realized.rogers_satchell)) if realized.ready else NAN,
            math.sqrt(max(0.0, realized.yang_zhang)) if realized.ready else NAN,
            _finite(kyle * 1000.0 / minute_close * 1e4) if minute_close > 0.0 else NAN,
            self._amihud.value,
            roll / last_price * 1e4 if last_price > 0.0 else NAN,
            self._staleness.seconds(self._event_ts_ns) if self._event_ts_ns is not None else NAN,
        )

    def _indicator_values(self) -> list[float]:
        specs = self.config.indicators
        if not specs:
            return []
        layout = feature_layout(self.config)
        minute_close = self._minute_bar.close if self._minute_bar is not None else NAN
        second_close = self._second_bar.close if self._second_bar is not None else NAN
        out = []
        for indicator, spec, output, source in zip(self._indicators, specs, layout.indicator_outputs,
                                                    layout.sources[len(FEATURE_NAMES):]):
            value = indicator.values[output]
            if spec.scale != "none":
                close = minute_close if source == _MINUTE_BAR else second_close
                if not close > 0.0:
                    value = NAN
                elif spec.scale == "relative_to_close":
                    value = value / close - 1.0
                else:
                    value = value / close * 1e4
            out.append(_finite(value))
        return out
