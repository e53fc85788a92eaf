"""TA-Lib's 61 candlestick patterns ("Pattern Recognition"), computed one bar at a time.

Every class follows the indicator contract: ``update(open, high, low, close)`` in O(1),
``value`` / ``values`` (TA-Lib's integer as a float: 0, ±80, ±100 or ±200), ``ready`` and
``reset()``, with the same integer as TA-Lib at every bar under TA-Lib's default candle
settings (:mod:`operators.ta.candles.settings`). TA-Lib reports 0, not NaN, before its lookback,
and so do these classes. ``TALIB_FUNCTIONS`` maps each TA-Lib name to its class.

>>> from operators.ta.candles import TALIB_FUNCTIONS
>>> len(TALIB_FUNCTIONS), TALIB_FUNCTIONS["CDLENGULFING"].__name__
(61, 'Engulfing')
"""

from operators.ta.candles import (hammers, hikkake, long_patterns, piercing, single, soldiers_and_crows, stars,
                               three_candle, two_candle)
from operators.ta.candles.pattern import CandlePattern

TALIB_FUNCTIONS: dict[str, type] = dict(sorted(
    (name, pattern)
    for module in (single, hammers, piercing, two_candle, stars, soldiers_and_crows, three_candle, long_patterns,
                   hikkake)
    for name, pattern in module.TALIB_FUNCTIONS.items()))

__all__ = ["TALIB_FUNCTIONS", "CandlePattern"]
