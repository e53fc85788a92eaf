"""Incremental bar indicators that match TA-Lib, one family (TA-Lib function group) per module.

Each family module or package (``overlap``, ``momentum``, ``volume``, ``volatility``, ``cycle``
...) ends with a ``TALIB_FUNCTIONS`` mapping, gathered by :mod:`~.catalogue`; its classes, and
:class:`EwmaVolatility`, are built on :class:`operators.ta.base.Indicator`. Every indicator
offers ``update(...)`` in O(1), ``value`` (NaN until ``ready``), ``ready`` and ``reset()``: the
``Indicator`` base class exported here.

>>> from operators.ta.indicators.catalogue import indicator_class
>>> rsi = indicator_class("RSI")(timeperiod=14)
>>> rsi.ready, rsi.value
(False, nan)
"""

from operators.ta.base import Indicator
from operators.ta.indicators.ewma_volatility import EwmaVolatility

__all__ = ["EwmaVolatility", "Indicator"]
