"""The event join appends the event features known at each feature row's time, per symbol and market."""

from __future__ import annotations

import math
import pickle

from operators.events import EVENT_FEATURES, EventMessage
from operators.events.join import EventJoinConfig, EventJoinState, join_step, market_fan_out
from operators.messages import FeatureRow

CONFIG = EventJoinConfig()


def _row(ts_ns: int, quality: tuple[int, ...] = (0,)) -> FeatureRow:
    return FeatureRow("AAPL", ts_ns, 0, ts_ns, 150.0, ("ret",), (0.01,), "v3", quality)


def _rate_decision(at: int) -> EventMessage:
    return EventMessage("trading_economics", "fed_interest_rate_decision", "US", "7", at, at, 3, actual=2.5,
                        forecast=2.5)


def _run(*items: EventMessage | FeatureRow) -> tuple[EventJoinState, list[FeatureRow]]:
    state, rows = None, []
    for item in items:
        state, out = join_step(state, item, CONFIG)
        rows += out
    assert state is not None
    return state, rows


def test_row_gains_symbol_and_market_features_in_declared_order() -> None:
    _, rows = _run(_rate_decision(100), _row(99), _row(100))
    before, at = rows
    assert at.names == ("ret", *EVENT_FEATURES, *(f"us_{name}" for name in EVENT_FEATURES))
    assert at.feature_set == "v3+events1" and at.quality == (0,) * (1 + 2 * len(EVENT_FEATURES))
    assert math.isnan(before.get("us_seconds_since_last_high_importance"))
    assert at.get("us_seconds_since_last_high_importance") == 0.0


def test_row_earlier_than_the_last_row_gets_missing_event_features() -> None:
    _, rows = _run(_rate_decision(100), _row(200), _row(150))
    late = rows[1]
    assert all(math.isnan(late.get(name)) for name in CONFIG.names)
    assert late.quality[1:] == (1,) * len(CONFIG.names) and late.values[0] == 0.01


def test_market_events_fan_out_to_every_symbol_and_symbol_events_to_their_own() -> None:
    earnings = EventMessage("estimize", "earnings_release", "AAPL", "1", 5, 5, 3, actual=1.0)
    assert [key for key, _ in market_fan_out(_rate_decision(5), CONFIG.markets, ["AAPL", "SPY"])] == ["AAPL", "SPY"]
    assert market_fan_out(earnings, CONFIG.markets, ["AAPL", "SPY"]) == [("AAPL", earnings)]


def test_state_survives_a_pickle_round_trip_as_in_recovery() -> None:
    state, _ = _run(_rate_decision(100))
    restored = pickle.loads(pickle.dumps(state))
    _, rows = join_step(restored, _row(160), CONFIG)
    assert rows[0].get("us_seconds_since_last_high_importance") == 60e-9
