"""The quote lag setting reaches each symbol's trade-side classifier (longest prefix wins)."""

from __future__ import annotations

from operators.features.config import FeatureConfig
from operators.features.symbol import SymbolFeatures


def _lag_of(symbol: str, config: FeatureConfig) -> int:
    lagged = SymbolFeatures(symbol, config)._quotes._lagged_mid
    return 0 if lagged is None else lagged.lag_ns


def test_each_symbol_gets_the_lag_of_its_longest_matching_prefix():
    config = FeatureConfig(quote_lag_ns=(("BTC", 50_000_000), ("BTCUSD_PERP", 5_000_000), ("", 1_000_000)))
    assert _lag_of("BTCUSDT", config) == 50_000_000
    assert _lag_of("BTCUSD_PERP", config) == 5_000_000
    assert _lag_of("IBM", config) == 1_000_000


def test_a_single_lag_applies_to_every_symbol_and_zero_means_the_latest_quote():
    assert _lag_of("IBM", FeatureConfig(quote_lag_ns=20_000_000)) == 20_000_000
    assert _lag_of("IBM", FeatureConfig()) == 0
