"""Declarative feature sets: which indicators a flow computes, with which parameters.

A feature set is data: a tuple of ``IndicatorFeature`` specs naming a TA-Lib function of the
streaming library (``operators.ta.indicators.catalogue``), its parameters, which output, which
bars feed it and how its value is made scale free. ``feature_set_version`` hashes everything
that defines the numbers (each core feature's group, name and input source, every setting,
every spec and the library version, which changes whenever a definition's arithmetic does), and
every feature row carries that hash: a row says exactly which definitions and
parameters produced it (lineage), and a model can refuse rows from another feature set.

Per-feature quality flags travel with each row (``quality``, aligned with the names):

=================  ====  ======================================================================
``MISSING``        1     no input of the kind it needs has arrived yet (e.g. no quotes for SPY)
``WARMING_UP``     2     inputs arrived but the window is not full yet
``STALE``          4     its newest input is older than ``stale_after_ns`` in event time
=================  ====  ======================================================================

A value that is NaN always has MISSING or WARMING_UP set; a row whose flags are all 0 is
complete and fresh.

>>> spec = IndicatorFeature("adx_14_1m", "ADX", (("timeperiod", 14),))
>>> spec.parameters
{'timeperiod': 14}
>>> len(feature_set_version((("Quotes", "mid", "quote"),), {"emit_interval_ns": 1}, (spec,)))
16
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

#: Bumped whenever the arithmetic behind a feature changes without its name or settings changing.
#: 3: the core RSI, Bollinger %B, ATR and MACD come from the TA-Lib-exact catalogue, whose momentum
#: functions follow TA-Lib 0.8's flat-window conventions (CCI, WILLR, MFI differ in the last bits).
LIBRARY_VERSION = "tickwise-features/3"

MISSING = 1
WARMING_UP = 2
STALE = 4

SCALES = ("none", "relative_to_close", "per_close_bps")


@dataclass(frozen=True, slots=True)
class IndicatorFeature:
    """One indicator output as a feature.

    ``scale``: ``none`` keeps the value (oscillators already scale free), ``relative_to_close``
    gives ``value / close - 1`` (price-level outputs such as a moving average),
    ``per_close_bps`` gives ``value / close * 1e4`` (price-unit outputs such as a slope).
    """

    name: str
    function: str
    params: tuple[tuple[str, float | int], ...] = ()
    output: str | None = None
    bars: str = "1m"
    scale: str = "none"

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum() or self.name != self.name.lower():
            raise ValueError(f"IndicatorFeature.name must be lower_snake_case, got {self.name!r}")
        if self.bars not in ("1s", "1m"):
            raise ValueError(f"IndicatorFeature.bars must be '1s' or '1m', got {self.bars!r}")
        if self.scale not in SCALES:
            raise ValueError(f"IndicatorFeature.scale must be one of {', '.join(SCALES)}, got {self.scale!r}")

    @property
    def parameters(self) -> dict[str, float | int]:
        return dict(self.params)

    def canonical(self) -> dict[str, object]:
        return {"name": self.name, "function": self.function, "params": sorted(self.params),
                "output": self.output, "bars": self.bars, "scale": self.scale}


def _p(**params: float | int) -> tuple[tuple[str, float | int], ...]:
    return tuple(sorted(params.items()))


#: The default indicators on 1-minute bars, all scale free so models generalise across symbols.
DEFAULT_INDICATORS: tuple[IndicatorFeature, ...] = (
    IndicatorFeature("adx_14_1m", "ADX", _p(timeperiod=14)),
    IndicatorFeature("plus_di_14_1m", "PLUS_DI", _p(timeperiod=14)),
    IndicatorFeature("minus_di_14_1m", "MINUS_DI", _p(timeperiod=14)),
    IndicatorFeature("aroon_oscillator_14_1m", "AROONOSC", _p(timeperiod=14)),
    IndicatorFeature("cci_14_1m", "CCI", _p(timeperiod=14)),
    IndicatorFeature("cmo_14_1m", "CMO", _p(timeperiod=14)),
    IndicatorFeature("mfi_14_1m", "MFI", _p(timeperiod=14)),
    IndicatorFeature("williams_r_14_1m", "WILLR", _p(timeperiod=14)),
    IndicatorFeature("stochastic_k_1m", "STOCH", (), output="slowk"),
    IndicatorFeature("stochastic_rsi_k_1m", "STOCHRSI", (), output="fastk"),
    IndicatorFeature("rate_of_change_10_1m", "ROC", _p(timeperiod=10)),
    IndicatorFeature("ultimate_oscillator_1m", "ULTOSC", ()),
    IndicatorFeature("trix_15_1m", "TRIX", _p(timeperiod=15)),
    IndicatorFeature("percentage_price_oscillator_1m", "PPO", ()),
    IndicatorFeature("balance_of_power_1m", "BOP", ()),
    IndicatorFeature("normalized_atr_14_1m", "NATR", _p(timeperiod=14)),
    IndicatorFeature("chaikin_money_flow_20_1m", "CMF", ()),
    IndicatorFeature("kama_deviation_30_1m", "KAMA", _p(timeperiod=30), scale="relative_to_close"),
    IndicatorFeature("linear_regression_slope_14_1m", "LINEARREG_SLOPE", _p(timeperiod=14), scale="per_close_bps"),
    IndicatorFeature("hilbert_dominant_cycle_period_1m", "HT_DCPERIOD", ()),
    IndicatorFeature("hilbert_trend_mode_1m", "HT_TRENDMODE", ()),
    IndicatorFeature("candle_engulfing_1m", "CDLENGULFING", ()),
    IndicatorFeature("candle_doji_1m", "CDLDOJI", ()),
    IndicatorFeature("candle_hammer_1m", "CDLHAMMER", ()),
)


def feature_set_version(core: tuple[tuple[str, str, str], ...], settings: Mapping[str, object],
                        indicators: tuple[IndicatorFeature, ...]) -> str:
    """16 hex digits identifying the definitions and parameters behind a feature vector.

    ``core``: each core feature as (group, name, input source), in row order.
    """
    payload = orjson.dumps({"library": LIBRARY_VERSION, "core": [list(definition) for definition in core],
                            "settings": {key: settings[key] for key in sorted(settings)},
                            "indicators": [spec.canonical() for spec in indicators]},
                           option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(payload, digest_size=8).hexdigest()
