"""Settings of the per-symbol feature step, validated on construction.

>>> FeatureConfig(rsi_period=1)
Traceback (most recent call last):
...
ValueError: FeatureConfig.rsi_period must be an integer >= 2, got 1
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
        _open_interval("bollinger_width", self.bollinger_width, 0.0, math.inf, "a positive finite number")
        _open_interval("ewma_lambda", self.ewma_lambda, 0.0, 1.0, "strictly between 0 and 1")
