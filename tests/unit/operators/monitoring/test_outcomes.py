"""Live accuracy: predictions joined with the move after their horizon, in event time."""

from __future__ import annotations

import math
import pickle

import pytest

from operators.messages import FeatureRow, Prediction
from operators.monitoring.thresholds import OnsetAlarm, Threshold, seed_thresholds
from operators.monitoring.outcomes import OutcomeConfig, OutcomeTracker, calibration_bucket

HORIZON = 60


def a_row(ts: int, price: float) -> FeatureRow:
    return FeatureRow("IBM", ts, 0, ts, price, (), ())


def a_prediction(ts: int, p_up: float, price: float = 100.0, version: str = "v1") -> Prediction:
    return Prediction(f"p{ts}-{version}", "IBM", ts, 0, ts, price, version, p_up, 1 if p_up > 0.5 else -1,
                      abs(2 * p_up - 1), 0.01, "calm", 0.0, {})


def a_tracker(**overrides: object) -> OutcomeTracker:
    return OutcomeTracker(OutcomeConfig(horizon_ns=HORIZON, **overrides))


def test_prediction_resolves_at_the_first_row_at_or_after_its_horizon() -> None:
    tracker = a_tracker()
    tracker.on_prediction(a_prediction(0, 0.7))
    assert tracker.on_row(a_row(59, 101.0)) == ([], [])
    outcomes, _ = tracker.on_row(a_row(60, 99.0))
    assert [(o.resolved_ts_ns, o.resolved_price, o.realized_up, o.correct) for o in outcomes] == [(60, 99.0, False, False)]
    assert outcomes[0].log_loss == pytest.approx(-math.log(0.3))
    assert outcomes[0].brier == pytest.approx(0.49)


def test_a_flat_move_resolves_no_outcome_and_is_counted_as_training_drops_flat_labels() -> None:
    tracker = a_tracker()
    tracker.on_prediction(a_prediction(0, 0.7, price=100.0))
    tracker.on_prediction(a_prediction(1, 0.7, price=99.5))
    outcomes, _ = tracker.on_row(a_row(61, 100.0))
    assert [o.prediction_id for o in outcomes] == ["p1-v1"] and outcomes[0].realized_up
    assert tracker.flat == 1
    assert pickle.loads(pickle.dumps(tracker)).flat == 1


def test_prediction_arriving_after_its_resolving_row_joins_the_same_row() -> None:
    in_order, late = a_tracker(), a_tracker()
    in_order.on_row(a_row(0, 100.0))
    in_order.on_prediction(a_prediction(0, 0.8))
    expected = [in_order.on_row(a_row(ts, 100.0 + ts / 100)) for ts in (30, 61, 90)]
    for ts in (0, 30, 61, 90):
        late.on_row(a_row(ts, 100.0 + ts / 100))
    outcomes, _ = late.on_prediction(a_prediction(0, 0.8))
    assert outcomes == expected[1][0]


def test_rolling_statistics_cover_the_last_window_outcomes_only() -> None:
    tracker = a_tracker(window=2)
    for ts, p_up in ((0, 0.9), (1, 0.9), (2, 0.1)):
        tracker.on_prediction(a_prediction(ts, p_up))
    outcomes, _ = tracker.on_row(a_row(100, 101.0))  # up: hit, hit, miss
    assert [o.correct for o in outcomes] == [True, True, False]
    assert [o.rolling_accuracy for o in outcomes] == [1.0, 1.0, 0.5]
    assert outcomes[-1].window == 2
    assert outcomes[-1].rolling_confidence == pytest.approx(0.8)


def test_statistics_are_kept_per_model_version() -> None:
    tracker = a_tracker()
    tracker.on_prediction(a_prediction(0, 0.9, version="v1"))
    tracker.on_prediction(a_prediction(0, 0.1, version="v2"))
    outcomes, _ = tracker.on_row(a_row(60, 101.0))
    assert {(o.model_version, o.rolling_accuracy) for o in outcomes} == {("v1", 1.0), ("v2", 0.0)}


def test_accuracy_below_the_threshold_raises_one_retrain_event_per_onset() -> None:
    thresholds = seed_thresholds(min_outcomes=20)
    tracker = a_tracker(window=20, cusum_threshold=1e6, retrain=thresholds["retrain"],
                        model_review=thresholds["model_review"])
    events = []
    price = 100.0
    for step in range(200):
        ts = step * 10
        wrong = 60 <= step < 120
        tracker.on_prediction(a_prediction(ts, 0.2 if wrong else 0.8, price))
        price += 0.01
        events += tracker.on_row(a_row(ts + HORIZON, price))[1]
    retrain = [e for e in events if e.kind == "retrain"]
    assert len(retrain) == 1
    assert retrain[0].statistic < 0.55 and retrain[0].feature == "accuracy" and retrain[0].model_version == "v1"


def feed_predictions(tracker: OutcomeTracker, p_up_at: list[float], spacing: int = 10) -> list:
    """One prediction per step at a rising price (every move up), each resolved a horizon later."""
    events = []
    price = 100.0
    for step, p_up in enumerate(p_up_at):
        tracker.on_prediction(a_prediction(step * spacing, p_up, price))
        price += 0.01
        events += tracker.on_row(a_row(step * spacing + HORIZON, price))[1]
    return events


def test_a_model_worse_than_its_own_probabilities_raises_retrain_from_the_calibrated_error() -> None:
    tracker = a_tracker(cusum_slack=0.5, cusum_threshold=20.0)
    events = feed_predictions(tracker, [0.7] * 100 + [0.3] * 40)
    retrain = [e for e in events if e.kind == "retrain"]
    assert len(retrain) == 1
    assert retrain[0].feature == "standardised_excess_log_loss" and retrain[0].detector == "cusum(k=0.5,h=20)"
    assert retrain[0].statistic > 20.0
    per_miss = 0.7 / 0.21 ** 0.5 - 0.5  # a miss at p = 0.3 is 1.53 standard deviations worse than promised
    assert retrain[0].ts_ns == (100 + math.ceil(20 / per_miss) - 1) * 10 + HORIZON


def test_retrain_events_of_one_model_are_rate_limited_in_event_time() -> None:
    tracker = a_tracker(cusum_slack=0.5, cusum_threshold=5.0, retrain_min_gap_ns=1_000)
    events = feed_predictions(tracker, [0.3] * 300)
    stamps = [e.ts_ns for e in events if e.kind == "retrain"]
    assert len(stamps) == 3 and all(b - a >= 1_000 for a, b in zip(stamps, stamps[1:]))


def test_a_calibrated_coin_flip_never_raises_retrain_from_the_calibrated_error() -> None:
    tracker = a_tracker(cusum_slack=0.5, cusum_threshold=20.0, retrain=Threshold("retrain", "below", 0.0, 0.0))
    assert [e for e in feed_predictions(tracker, [0.5] * 500) if e.kind == "retrain"] == []


def test_low_average_confidence_raises_one_model_review_event() -> None:
    tracker = a_tracker(window=10, model_review=Threshold("model_review", "below", 0.7, 0.77, 10))
    events = []
    for step in range(50):
        tracker.on_prediction(a_prediction(step, 0.55))
        events += tracker.on_row(a_row(step + HORIZON, 101.0))[1]
    assert [e.kind for e in events if e.kind == "model_review"] == ["model_review"]


def test_pending_predictions_are_bounded() -> None:
    tracker = a_tracker(max_pending=3)
    for ts in range(5):
        tracker.on_prediction(a_prediction(ts, 0.6))
    assert tracker.pending == 3 and tracker.dropped == 2


def test_tracker_pickles_and_resumes_identically() -> None:
    rows = [a_row(ts, 100 + (ts % 7) / 10) for ts in range(0, 400, 5)]
    straight, resumed = a_tracker(), a_tracker()

    def feed(tracker: OutcomeTracker, row: FeatureRow) -> tuple:
        first = tracker.on_prediction(a_prediction(row.ts_ns, 0.4 + (row.ts_ns % 3) / 10, row.price))
        return first, tracker.on_row(row)

    expected = [feed(straight, row) for row in rows]
    got = [feed(resumed, row) for row in rows[:40]]
    resumed = pickle.loads(pickle.dumps(resumed))
    got += [feed(resumed, row) for row in rows[40:]]
    assert got == expected


def test_calibration_bucket_edges() -> None:
    assert [calibration_bucket(p) for p in (0.0, 0.09, 0.1, 0.5, 0.99, 1.0)] == [0, 0, 1, 5, 9, 9]


def test_onset_alarm_waits_for_min_samples_and_ignores_nan() -> None:
    alarm = OnsetAlarm(Threshold("retrain", "below", 0.55, 0.6, min_samples=100))
    assert alarm.update(0.1, samples=99) is False
    assert alarm.update(float("nan"), samples=500) is False
    assert alarm.update(0.1, samples=100) is True
