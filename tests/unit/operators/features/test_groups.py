"""Specifications of the feature groups: one declaration per feature gives names, order, sources and docs."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import pytest

from operators.features.bars import Bar
from operators.features.groups import CORE_GROUPS, FEATURE_NAMES, MinuteIndicators, QuotesAndTrades
from operators.features.groups.base import MINUTE_BAR, QUOTE, SOURCE_NAMES, FeatureGroup, feature
from operators.ta.indicators.catalogue import talib_catalogue

SECOND = 1_000_000_000
DOCS = Path(__file__).resolve().parents[4] / "docs" / "features.md"


def test_group_when_features_are_declared_then_names_sources_and_values_follow_declaration_order() -> None:
    class Example(FeatureGroup):
        @feature(QUOTE)
        def second_declared_first(self, now_ns: int) -> float:
            """first"""
            return 1.0

        @feature(MINUTE_BAR)
        def first_declared_second(self, now_ns: int) -> float:
            """second"""
            return float(now_ns)

    assert Example.names == ("second_declared_first", "first_declared_second")
    assert Example.sources == (QUOTE, MINUTE_BAR)
    assert Example.descriptions == ("first", "second")
    assert Example().values(7) == (1.0, 7.0)


def test_feature_when_source_is_unknown_then_raises_naming_it() -> None:
    with pytest.raises(ValueError, match="got 9"):
        feature(9)


def test_core_groups_declare_every_feature_once_with_a_description() -> None:
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES)) == 49
    for group in CORE_GROUPS:
        assert all(group.descriptions), group.__name__


def test_docs_table_lists_every_core_feature_as_declared() -> None:
    text = DOCS.read_text()
    for group in CORE_GROUPS:
        for name, source, description in zip(group.names, group.sources, group.descriptions):
            assert f"| `{name}` | {SOURCE_NAMES[source]} | {description} |" in text, name


def test_minute_indicators_are_the_catalogue_classes() -> None:
    group = MinuteIndicators(14, 20, 2.0, 14, 12, 26, 9)
    catalogue = talib_catalogue()
    assert type(group._rsi) is catalogue["RSI"] and type(group._bands) is catalogue["BBANDS"]
    assert type(group._atr) is catalogue["ATR"] and type(group._macd) is catalogue["MACD"]


def test_bollinger_percent_b_when_the_window_is_flat_then_nan_not_inf() -> None:
    group = MinuteIndicators(2, 3, 2.0, 2, 2, 3, 2)
    for _ in range(5):
        group.on_minute_bar(Bar(0, 0, 5.0, 5.0, 5.0, 5.0, 1.0, 5.0, 1, 0.0, 0.0))
    values = dict(zip(group.names, group.values(0)))
    assert math.isnan(values["bollinger_percent_b_1m"]) and values["atr_1m"] == 0.0


def test_quotes_and_trades_when_the_quote_is_broken_then_quote_features_are_nan() -> None:
    group = QuotesAndTrades(flow_window_ns=10 * SECOND, quote_lag_ns=0)
    group.on_quote(SECOND, 0.0, 0.0, 100.0, 100.0)
    values = dict(zip(group.names, group.values(SECOND)))
    for name in ("mid", "spread", "spread_bps", "microprice", "microprice_deviation_bps", "quote_imbalance"):
        assert math.isnan(values[name]), name
    assert values["quote_age_seconds"] == 0.0


def test_group_pickle_round_trip_continues_with_identical_values() -> None:
    group = QuotesAndTrades(flow_window_ns=2 * SECOND, quote_lag_ns=1000)
    for i in range(50):
        group.on_quote(i * SECOND // 4, 100.0 + 0.01 * (i % 3), 100.02 + 0.01 * (i % 2), 100.0 + i, 200.0)
        group.on_trade(i * SECOND // 4 + 1, 100.01, 10.0, group.classify(i * SECOND // 4 + 1, 100.01))
    copy = pickle.loads(pickle.dumps(group, protocol=pickle.HIGHEST_PROTOCOL))
    for i in range(50, 80):
        for target in (group, copy):
            target.on_quote(i * SECOND // 4, 100.0, 100.03, 50.0 + i, 80.0)
        assert copy.values(i * SECOND // 4) == group.values(i * SECOND // 4)
