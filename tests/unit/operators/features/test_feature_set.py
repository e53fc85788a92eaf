"""Feature sets: lineage hashes and per-feature quality flags on real ticks."""

from __future__ import annotations

import math
import pickle

import pytest

from operators.features.feature_set import MISSING, STALE, WARMING_UP, IndicatorFeature
from operators.features.symbol import FEATURE_NAMES, FeatureConfig, SymbolFeatures, feature_layout
from operators.messages import Quote, Trade, ValidTick

SECOND = 1_000_000_000
SMALL = (IndicatorFeature("natr_14_1m", "NATR", (("timeperiod", 14),)),
         IndicatorFeature("trix_15_1m", "TRIX", (("timeperiod", 15),)))


def _trade(ts: int, price: float, offset: int) -> ValidTick:
    return ValidTick(Trade("IBM", ts, price, 100.0), "ticks", 0, offset)


def _quote(ts: int, bid: float, ask: float, offset: int) -> ValidTick:
    return ValidTick(Quote("IBM", ts, bid, ask, 300.0, 200.0), "ticks", 0, offset)


def test_version_when_a_parameter_changes_then_changes_and_is_stable_otherwise() -> None:
    base = feature_layout(FeatureConfig(indicators=SMALL)).version
    assert feature_layout(FeatureConfig(indicators=SMALL)).version == base
    other = (SMALL[0], IndicatorFeature("trix_15_1m", "TRIX", (("timeperiod", 16),)))
    assert feature_layout(FeatureConfig(indicators=other)).version != base
    assert feature_layout(FeatureConfig(indicators=SMALL, rsi_period=10)).version != base


def test_layout_names_are_core_then_indicators() -> None:
    layout = feature_layout(FeatureConfig(indicators=SMALL))
    assert layout.names == FEATURE_NAMES + ("natr_14_1m", "trix_15_1m")


def test_rows_when_no_quote_yet_then_quote_features_are_missing_not_warming_up() -> None:
    features = SymbolFeatures("IBM", FeatureConfig(indicators=SMALL))
    row = features.update(_trade(SECOND, 180.0, 0))[0]
    flags = dict(zip(row.names, row.quality))
    assert flags["spread_bps"] == MISSING and math.isnan(row.get("spread_bps"))
    assert flags["rsi_1m"] in (MISSING, WARMING_UP)
    assert flags["last_price"] == 0
    assert row.feature_set == feature_layout(FeatureConfig(indicators=SMALL)).version
    assert not row.complete


def test_rows_when_quotes_stop_for_longer_than_the_threshold_then_quote_features_are_stale() -> None:
    config = FeatureConfig(indicators=SMALL, stale_after_ns=30 * SECOND)
    features = SymbolFeatures("IBM", config)
    features.update(_quote(SECOND, 179.9, 180.1, 0))
    row = features.update(_trade(45 * SECOND, 180.0, 1))[0]
    flags = dict(zip(row.names, row.quality))
    assert flags["spread_bps"] & STALE
    assert not flags["last_price"] & STALE


def test_rows_after_warm_up_on_real_like_stream_become_complete() -> None:
    features = SymbolFeatures("IBM", FeatureConfig(indicators=SMALL))
    rows = []
    price = 180.0
    for second in range(1, 60 * 60):
        price += 0.01 if (second * 7919) % 13 < 6 else -0.01
        rows.extend(features.update(_quote(second * SECOND, price - 0.01, price + 0.01, 2 * second)))
        at_ask = (second * 104729) % 7 < 3  # trades bounce between bid and ask, so Roll's spread exists
        rows.extend(features.update(_trade(second * SECOND + 1, price + (0.01 if at_ask else -0.01), 2 * second + 1)))
    last = rows[-1]
    incomplete = [name for name, flag in zip(last.names, last.quality) if flag]
    assert incomplete == [], incomplete
    assert last.complete
    restored = pickle.loads(pickle.dumps(features))
    assert restored.update(_trade(3600 * SECOND + 5, price, 99_999)) == features.update(
        _trade(3600 * SECOND + 5, price, 99_999))


def test_config_when_an_indicator_name_repeats_a_core_feature_then_raises() -> None:
    with pytest.raises(ValueError, match="rsi_1m"):
        FeatureConfig(indicators=(IndicatorFeature("rsi_1m", "NATR", ()),))


def test_layout_when_function_is_unknown_then_one_clear_error() -> None:
    with pytest.raises(ValueError, match="no streaming implementation of TA-Lib function 'NOPE'"):
        feature_layout(FeatureConfig(indicators=(IndicatorFeature("nope_1m", "NOPE", ()),)))


def test_layout_when_output_is_unknown_then_names_the_outputs() -> None:
    with pytest.raises(ValueError, match="has outputs"):
        feature_layout(FeatureConfig(indicators=(IndicatorFeature("natr_1m", "NATR", (), output="upper"),)))
