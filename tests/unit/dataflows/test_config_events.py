"""Specifications of the event-feature setting (``TICKWISE_EVENTS``) and what the flow builds from it."""

from __future__ import annotations

import pytest

from dataflows.components import feature_config, flow_feature_set, flow_joins, validation_limits
from dataflows.config import ConfigError, Settings
from dataflows.option_steps import ChainConfigSource
from dataflows.symbol_step import SymbolLogicBuilder
from operators.events import EVENT_FEATURE_SET, EventJoinConfig
from operators.features.layout import feature_layout
from operators.ingest.clock import EventTimeConfig
from operators.messages import FeatureRow, Trade, ValidTick
from operators.options.join import OPTION_FEATURE_SET

SECOND = 1_000_000_000


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


@pytest.mark.parametrize("environment", [{}, {"TICKWISE_EVENTS": "US,EU"}, {"TICKWISE_OPTIONS_JOIN": "1"},
                                         {"TICKWISE_EVENTS": "1", "TICKWISE_OPTIONS_JOIN": "1"}])
def test_the_flows_joins_name_what_the_symbol_step_appends_to_every_row(environment: dict[str, str]) -> None:
    settings = Settings.from_environment(environment)
    logic = SymbolLogicBuilder(EventTimeConfig(confirmations=1), feature_config(settings),
                               events=settings.events.join_config(),
                               options=ChainConfigSource.of(settings.options) if settings.options.join else None)(None)
    rows = [item for i in range(3) for item in logic.on_item(ValidTick(
        Trade("IBM", 1_381_329_000 * SECOND + i * SECOND, 180.0, 100.0), "ticks", 0, i))[0] if type(item) is FeatureRow]

    names, extensions = flow_joins(settings)
    assert rows and {row.feature_set for row in rows} == {flow_feature_set(settings)}
    assert all(row.names == feature_layout(feature_config(settings)).names + names for row in rows)
    assert flow_feature_set(settings) == feature_layout(feature_config(settings)).version + extensions
