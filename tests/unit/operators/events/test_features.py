"""Event features answer as of an event time and never move before a message's publication."""

from __future__ import annotations

import math

import pytest

from operators.events import EVENT_FEATURES, EventFeatureConfig, EventFeatures, EventMessage

HOUR = 3_600 * 10**9


def _release(event_id: str, at: int, actual: float | None = None, forecast: float | None = None,
             event_type: str = "fed_interest_rate_decision", importance: int = 3, period: str = "") -> EventMessage:
    return EventMessage("test", event_type, "US", event_id, at, at, importance, actual=actual, forecast=forecast,
                        period=period)


def _announcement(event_id: str, public: int, scheduled: int, importance: int = 3) -> EventMessage:
    return EventMessage("test", "fed_interest_rate_decision", "US", f"{event_id}:schedule", public, scheduled,
                        importance)


def _estimate(author: str, at: int, eps: float, period: str = "2019Q1") -> EventMessage:
    return EventMessage("estimize", "eps_estimate", "AAPL", f"{author}{at}", at, at, 1, forecast=eps, period=period,
                        author=author)


def _features(*events: EventMessage) -> EventFeatures:
    features = EventFeatures(EventFeatureConfig())
    for event in events:
        features.update(event)
    return features


def _mixed_stream() -> list[EventMessage]:
    filing = EventMessage("sec_edgar", "8-K", "AAPL", "0001", 40 * HOUR, 40 * HOUR, 2,
                          text="Losses and impairment were adverse; results may be uncertain.")
    return [
        _announcement("1", 0, 10 * HOUR), _release("1", 10 * HOUR, 1.0, 0.5),
        _release("2", 20 * HOUR, 2.0, 1.0), _release("3", 30 * HOUR, 0.0, 1.0),
        _estimate("a", 31 * HOUR, 1.0), _estimate("b", 32 * HOUR, 1.2),
        EventMessage("estimize", "earnings_release", "AAPL", "9", 35 * HOUR, 35 * HOUR, 3, actual=1.32,
                     forecast=1.0, period="2019Q1"),
        filing,
    ]


@pytest.mark.parametrize("index", range(len(_mixed_stream())))
def test_no_feature_changes_before_public_time(index: int) -> None:
    """Fed with the event or without it, the features agree 1 ns before its publication and differ at it."""
    stream = _mixed_stream()
    event = stream[index]
    with_event = _features(*stream)
    without_event = _features(*(other for position, other in enumerate(stream) if position != index))
    before = with_event.values(event.public_ts_ns - 1)
    assert _same(before, without_event.values(event.public_ts_ns - 1))
    if event.event_type != "eps_estimate":  # an estimate shows only through the report that follows it
        assert not _same(with_event.values(event.public_ts_ns), without_event.values(event.public_ts_ns))


def test_seconds_to_next_when_announced_then_counts_down_and_clears_at_the_release() -> None:
    features = _features(_announcement("1", 0, 10 * HOUR), _release("1", 10 * HOUR, 0.25, 0.25))
    assert features.values(4 * HOUR)["seconds_to_next_high_importance"] == 6 * 3_600
    at_release = features.values(10 * HOUR)
    assert math.isnan(at_release["seconds_to_next_high_importance"])
    assert features.values(12 * HOUR)["seconds_since_last_high_importance"] == 2 * 3_600


def test_seconds_to_next_when_low_importance_then_ignored() -> None:
    features = _features(_announcement("1", 0, 10 * HOUR, importance=2))
    assert math.isnan(features.values(HOUR)["seconds_to_next_high_importance"])


def test_last_surprise_z_standardises_by_earlier_surprises_only() -> None:
    features = _features(_release("1", HOUR, 1.0, 0.0), _release("2", 2 * HOUR, 3.0, 0.0),
                         _release("3", 3 * HOUR, 4.0, 0.0))
    assert math.isnan(features.values(2 * HOUR)["last_surprise_z"])
    # earlier surprises 1 and 3: mean 2, sample deviation sqrt(2)
    assert features.values(3 * HOUR)["last_surprise_z"] == pytest.approx((4.0 - 2.0) / math.sqrt(2.0))


def test_earnings_surprise_uses_each_analysts_latest_estimate_before_the_report() -> None:
    report = EventMessage("estimize", "earnings_release", "AAPL", "9", 10 * HOUR, 10 * HOUR, 3, actual=1.1,
                          forecast=9.0, period="2019Q1")
    late = _estimate("c", 11 * HOUR, 5.0)
    features = _features(_estimate("a", HOUR, 0.5), _estimate("a", 2 * HOUR, 1.0), _estimate("b", 3 * HOUR, 1.2),
                         report, late)
    values = features.values(12 * HOUR)
    assert values["estimate_count"] == 2.0
    assert values["earnings_surprise"] == pytest.approx((1.1 - 1.1) / 1.1)
    assert values["estimate_dispersion"] == pytest.approx(math.sqrt(0.02) / 1.1)


def test_earnings_surprise_when_no_estimates_then_falls_back_to_release_forecast() -> None:
    report = EventMessage("estimize", "earnings_release", "AAPL", "9", HOUR, HOUR, 3, actual=1.2, forecast=1.0,
                          period="2019Q1")
    values = _features(report).values(HOUR)
    assert values["earnings_surprise"] == pytest.approx(0.2) and values["estimate_count"] == 0.0
    assert math.isnan(values["estimate_dispersion"])


def test_open_estimate_periods_are_bounded() -> None:
    features = EventFeatures(EventFeatureConfig(max_open_periods=2))
    for quarter in range(1, 5):
        features.update(_estimate("a", quarter * HOUR, 1.0, period=f"2019Q{quarter}"))
    features.values(5 * HOUR)
    assert sorted(features._state.estimates) == ["2019Q3", "2019Q4"]


def test_values_when_time_goes_back_then_raises() -> None:
    features = _features()
    features.values(10)
    with pytest.raises(ValueError, match="expected as_of_ns >= 10"):
        features.values(9)


def test_reset_forgets_everything() -> None:
    features = _features(_release("1", HOUR, 1.0, 0.0))
    features.values(HOUR)
    features.reset()
    assert all(math.isnan(value) for value in features.values(2 * HOUR).values())
    assert list(features.values(2 * HOUR)) == list(EVENT_FEATURES)


def _same(left: dict[str, float], right: dict[str, float]) -> bool:
    return all(left[name] == right[name] or (math.isnan(left[name]) and math.isnan(right[name])) for name in left)
