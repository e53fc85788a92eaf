"""Feature groups: each module declares a few features (name, input source, value) and owns
their state; :class:`operators.features.symbol.SymbolFeatures` runs them.

``CORE_GROUPS`` in order give the core features, ``FEATURE_NAMES``; the configured indicators
(:mod:`operators.features.groups.configured_indicators`) follow them in every row.

>>> FEATURE_NAMES[:3]
('last_price', 'mid', 'spread')
"""

from operators.features.groups.bars_and_returns import BarsAndReturns
from operators.features.groups.base import MINUTE_BAR, QUOTE, SECOND_BAR, TRADE, FeatureGroup, feature
from operators.features.groups.configured_indicators import ConfiguredIndicators, resolve_indicators
from operators.features.groups.liquidity import LiquidityFeatures
from operators.features.groups.minute_indicators import MinuteIndicators
from operators.features.groups.order_flow import OrderFlowFeatures
from operators.features.groups.quotes_and_trades import QuotesAndTrades
from operators.features.groups.realized_volatility import RealizedVolatility

#: The core groups in row order.
CORE_GROUPS: tuple[type[FeatureGroup], ...] = (QuotesAndTrades, BarsAndReturns, MinuteIndicators,
                                               RealizedVolatility, LiquidityFeatures, OrderFlowFeatures)

FEATURE_NAMES: tuple[str, ...] = tuple(name for group in CORE_GROUPS for name in group.names)
CORE_SOURCES: tuple[int, ...] = tuple(source for group in CORE_GROUPS for source in group.sources)

__all__ = ["BarsAndReturns", "CORE_GROUPS", "CORE_SOURCES", "ConfiguredIndicators", "FEATURE_NAMES", "FeatureGroup",
           "LiquidityFeatures", "MINUTE_BAR", "MinuteIndicators", "OrderFlowFeatures", "QUOTE", "QuotesAndTrades", "RealizedVolatility",
           "SECOND_BAR", "TRADE", "feature", "resolve_indicators"]
