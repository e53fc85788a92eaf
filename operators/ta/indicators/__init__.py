"""Incremental bar indicators that match TA-Lib's classic definitions, one per module.

Every indicator shares the contract in :mod:`operators.ta.indicators.base`: ``update(...)`` in
O(1), ``value`` (NaN until ``ready``), ``ready`` and ``reset()``.

>>> from operators.ta.indicators import RelativeStrengthIndex
>>> rsi = RelativeStrengthIndex(period=14)
>>> rsi.ready, rsi.value
(False, nan)
"""

from operators.ta.indicators.atr import AverageTrueRange
from operators.ta.indicators.base import Indicator
from operators.ta.indicators.bollinger import BollingerPercentB
from operators.ta.indicators.ema import ExponentialMovingAverage
from operators.ta.indicators.ewma_volatility import EwmaVolatility
from operators.ta.indicators.macd import MovingAverageConvergenceDivergence
from operators.ta.indicators.rsi import RelativeStrengthIndex

__all__ = [
    "AverageTrueRange",
    "BollingerPercentB",
    "EwmaVolatility",
    "ExponentialMovingAverage",
    "Indicator",
    "MovingAverageConvergenceDivergence",
    "RelativeStrengthIndex",
]
