"""FeatureConfig's quote lag: one lag or per-prefix pairs, validated, and part of the feature-set version."""

from __future__ import annotations

import pytest

from operators.features.config import FeatureConfig
from operators.features.layout import feature_layout


def test_per_prefix_lags_change_the_feature_set_version_and_a_single_lag_keeps_its_own() -> None:
    plain = feature_layout(FeatureConfig()).version
    assert feature_layout(FeatureConfig(quote_lag_ns=0)).version == plain
    per_prefix = feature_layout(FeatureConfig(quote_lag_ns=(("", 0), ("BTC", 50_000_000)))).version
    assert per_prefix != plain
    assert feature_layout(FeatureConfig(quote_lag_ns=(("", 0), ("BTC", 5_000_000)))).version != per_prefix


def test_a_symbol_matching_no_prefix_gets_no_lag() -> None:
    config = FeatureConfig(quote_lag_ns=(("BTC", 50_000_000),))
    assert (config.quote_lag_ns_for("ETHUSD"), config.quote_lag_ns_for("BTC")) == (0, 50_000_000)


@pytest.mark.parametrize("lag,message", [
    (-1, "quote_lag_ns must be an integer >= 0"),
    ((), "must name each prefix once"),
    ((("BTC", 1), ("BTC", 2)), "must name each prefix once"),
    ((("BTC", -5),), r"quote_lag_ns\['BTC'\] must be an integer >= 0"),
    ((("BTC", 1.5),), r"quote_lag_ns\['BTC'\] must be an integer >= 0"),
    (((3, 1),), "must be an integer or \\(prefix, lag\\) pairs"),
])
def test_bad_quote_lags_are_refused_with_a_message_naming_them(lag: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FeatureConfig(quote_lag_ns=lag)  # type: ignore[arg-type]
