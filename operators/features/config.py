"""Settings of the per-symbol feature step, validated on construction.

>>> FeatureConfig(rsi_period=1)
Traceback (most recent call last):
...
ValueError: FeatureConfig.rsi_period must be an integer >= 2, got 1

The quote lag (how much earlier a quote must be stamped to count as in effect at a trade, for
venues whose quotes reach the tape before the trades they caused) is one lag for every symbol,
or per symbol prefix where the longest matching prefix wins (``""`` matches every symbol):

>>> config = FeatureConfig(quote_lag_ns=(("", 0), ("BTC", 50_000_000), ("BTCUSD.X", 5_000_000)))
>>> config.quote_lag_ns_for("IBM"), config.quote_lag_ns_for("BTCEUR"), config.quote_lag_ns_for("BTCUSD.X")
(0, 50000000, 5000000)

Both forms live in the one field ``quote_lag_ns`` so that a config without per-prefix lags hashes
into the same feature-set version as before they existed (``operators.features.layout``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from operators.features.feature_set import DEFAULT_INDICATORS, IndicatorFeature
from operators.features.groups import FEATURE_NAMES
from operators.features.groups.base import SECOND_NS


def _positive_int(name: str, value: object, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"FeatureConfig.{name} must be an integer >= {minimum}, got {value!r}")


def _open_interval(name: str, value: object, low: float, high: float, requirement: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value < high:
        raise ValueError(f"FeatureConfig.{name} must be {requirement}, got {value!r}")


def _check_quote_lag(lag: object) -> None:
    if not isinstance(lag, tuple):
        _positive_int("quote_lag_ns", lag, minimum=0)
        return
    for pair in lag:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)):
            raise ValueError(f"FeatureConfig.quote_lag_ns must be an integer or (prefix, lag) pairs, got {pair!r}")
        _positive_int(f"quote_lag_ns[{pair[0]!r}]", pair[1], minimum=0)
    prefixes = [prefix for prefix, _ in lag]
    if not lag or len(set(prefixes)) != len(prefixes):
        raise ValueError(f"FeatureConfig.quote_lag_ns must name each prefix once, got {prefixes!r}")


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Windows and periods of the core features, the emit interval and the configured indicators."""

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
    quote_lag_ns: int | tuple[tuple[str, int], ...] = 0  # one lag, or (prefix, lag) pairs: see the module
    stale_after_ns: int = 120 * SECOND_NS
    indicators: tuple[IndicatorFeature, ...] = DEFAULT_INDICATORS

    def __post_init__(self) -> None:
        _positive_int("realized_window", self.realized_window, minimum=2)
        _positive_int("liquidity_window", self.liquidity_window, minimum=3)
        _positive_int("roll_window", self.roll_window, minimum=3)
        _check_quote_lag(self.quote_lag_ns)
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
        _open_interval("bollinger_width", self.bollinger_width, 0.0, math.inf, "a positive finite number")
        _open_interval("ewma_lambda", self.ewma_lambda, 0.0, 1.0, "strictly between 0 and 1")

    def quote_lag_ns_for(self, symbol: str) -> int:
        """The quote lag of ``symbol``: the lag of its longest matching prefix (0 if none matches)."""
        lag = self.quote_lag_ns
        if isinstance(lag, int):
            return lag
        matching = [(len(prefix), ns) for prefix, ns in lag if symbol.startswith(prefix)]
        return max(matching)[1] if matching else 0
