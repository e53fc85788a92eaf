"""Specifications of the symbol-universe settings and the per-symbol rules the flow builds from them."""

from __future__ import annotations

import pytest

from dataflows.components import symbol_rules
from dataflows.config import ConfigError, Settings, load_settings


def test_universe_settings_when_unset_then_half_of_200_ticks_and_seven_days() -> None:
    universe = Settings.from_environment({}).universe

    assert (universe.reject_share, universe.reject_window, universe.idle_s) == (0.5, 200, 604_800.0)
    assert universe.idle_ns == 604_800 * 1_000_000_000


def test_universe_settings_read_their_environment_variables() -> None:
    universe = Settings.from_environment({"TICKWISE_SYMBOL_REJECT_SHARE": "0.25", "TICKWISE_SYMBOL_REJECT_WINDOW": "50",
                                          "TICKWISE_SYMBOL_IDLE_S": "3600"}).universe

    assert universe.reject_share_config().threshold == 0.25 and universe.reject_share_config().window == 50
    assert universe.idle_ns == 3_600 * 1_000_000_000


@pytest.mark.parametrize(("name", "value"), [("TICKWISE_SYMBOL_REJECT_SHARE", "0"), ("TICKWISE_SYMBOL_REJECT_SHARE", "1.5"),
                                             ("TICKWISE_SYMBOL_REJECT_WINDOW", "0"), ("TICKWISE_SYMBOL_IDLE_S", "-1")])
def test_universe_settings_when_out_of_range_then_one_sentence_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^invalid setting {name}: .*got '{value}'"):
        Settings.from_environment({name: value})


def test_symbol_rules_when_live_then_release_after_the_idle_time_and_bounded_runs_never() -> None:
    live = load_settings(run={"until_eof": False}, universe={"idle_s": 60.0})
    bounded = live.replace(run={"until_eof": True})
    never = live.replace(universe={"idle_s": 0.0})

    assert symbol_rules(live).release_after_s == 60.0 and symbol_rules(live).idle_ns == 60 * 1_000_000_000
    assert symbol_rules(bounded).release_after_s is None and symbol_rules(bounded).idle_ns == 60 * 1_000_000_000
    assert symbol_rules(never).release_after_s is None and symbol_rules(never).idle_ns == 0
