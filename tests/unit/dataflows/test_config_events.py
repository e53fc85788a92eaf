"""Specifications of the event-feature setting (``TICKWISE_EVENTS``) and what the flow builds from it."""

from __future__ import annotations

import pytest

from dataflows.components import flow_feature_set, validation_limits
from dataflows.config import ConfigError, Settings
from operators.events import EVENT_FEATURE_SET, EventJoinConfig
from operators.options.join import OPTION_FEATURE_SET


@pytest.mark.parametrize(("value", "markets"), [("", ()), ("0", ()), ("false", ()), ("1", ("US",)), ("on", ("US",)),
                                                ("us, EU,US", ("EU", "US"))])
def test_tickwise_events_reads_off_on_or_a_list_of_markets(value: str, markets: tuple[str, ...]) -> None:
    assert Settings.from_environment({"TICKWISE_EVENTS": value}).events.markets == markets


def test_events_are_off_by_default_and_on_add_their_extension_to_the_flows_feature_set() -> None:
    off, on = Settings.from_environment({}), Settings.from_environment({"TICKWISE_EVENTS": "US,EU"})

    assert off.events.join_config() is None
    assert on.events.join_config() == EventJoinConfig(markets=("EU", "US"))
    assert flow_feature_set(on) == flow_feature_set(off) + EVENT_FEATURE_SET
    assert "+" not in flow_feature_set(off)


def test_the_flows_feature_set_lists_events_then_options_as_the_symbol_step_appends_them() -> None:
    both = Settings.from_environment({"TICKWISE_EVENTS": "1", "TICKWISE_OPTIONS_JOIN": "1"})
    options = Settings.from_environment({"TICKWISE_OPTIONS_JOIN": "1"})
    base = flow_feature_set(Settings.from_environment({}))

    assert flow_feature_set(both) == base + EVENT_FEATURE_SET + OPTION_FEATURE_SET
    assert flow_feature_set(options) == base + OPTION_FEATURE_SET


def test_validation_allows_events_about_the_configured_markets_or_us_when_off() -> None:
    assert validation_limits(Settings.from_environment({})).events.markets == ("US",)
    assert validation_limits(Settings.from_environment({"TICKWISE_EVENTS": "EU"})).events.markets == ("EU",)


def test_tickwise_events_when_not_a_market_list_then_one_sentence_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="^invalid setting TICKWISE_EVENTS: .*got 'US,E-U'"):
        Settings.from_environment({"TICKWISE_EVENTS": "US,E-U"})
