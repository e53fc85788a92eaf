"""Incremental bar indicators that match TA-Lib's classic definitions, one per module.

Every indicator shares the contract in :mod:`operators.indicators.base`: ``update(...)`` in
O(1), ``value`` (NaN until ``ready``), ``ready`` and ``reset()``.

>>> from operators.indicators import RelativeStrengthIndex
>>> rsi = RelativeStrengthIndex(period=14)
>>> rsi.ready, rsi.value
(False, nan)
"""

from operators.indicators.atr import AverageTrueRange
from operators.indicators.base import Indicator
from operators.indicators.bollinger import BollingerPercentB
from operators.indicators.ema import ExponentialMovingAverage
from operators.indicators.ewma_volatility import EwmaVolatility
from operators.indicators.macd import MovingAverageConvergenceDivergence
from operators.indicators.rsi import RelativeStrengthIndex

__all__ = [
    "AverageTrueRange",
    "BollingerPercentB",
    "EwmaVolatility",
    "ExponentialMovingAverage",
    "Indicator",
    "MovingAverageConvergenceDivergence",
    "RelativeStrengthIndex",
]
