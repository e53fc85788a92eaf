"""PSI of each feature over a sliding window against the training profile."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from operators.messages import FeatureRow
from operators.monitoring.psi import (FeatureProfile, PsiConfig, PsiMonitor, population_stability_index,
                           profile_from_columns, segmented_columns)

NAMES = ("spread_bps", "quote_imbalance")


def a_row(step: int, spread: float, imbalance: float = 0.0) -> FeatureRow:
    return FeatureRow("IBM", 1_000 + step, 0, step, 185.0, NAMES, (spread, imbalance))


def a_profile(seed: int = 1) -> FeatureProfile:
    rng = np.random.default_rng(seed)
    return profile_from_columns({"spread_bps": rng.gamma(2.0, 1.0, 5_000), "quote_imbalance": rng.uniform(-1, 1, 5_000)})


def test_profile_has_deciles_whose_shares_sum_to_one() -> None:
    profile = a_profile()
    edges, shares = profile.bins["spread_bps"]
    assert len(edges) == 9 and len(shares) == 10
    assert sum(shares) == pytest.approx(1.0)
    assert all(share == pytest.approx(0.1, abs=0.01) for share in shares)


def test_profile_round_trips_through_its_json_file(tmp_path) -> None:
    profile = a_profile()
    path = profile.save(tmp_path)
    assert path.name == "feature_profile.json"
    assert FeatureProfile.load(tmp_path) == profile


def test_profile_load_when_the_model_has_none_then_none(tmp_path) -> None:
    assert FeatureProfile.load(tmp_path) is None


def test_profile_refuses_shares_that_do_not_sum_to_one() -> None:
    with pytest.raises(ValueError, match="shares must sum to 1"):
        FeatureProfile({"x": ((1.0,), (0.5, 0.6))})


def test_psi_of_identical_distributions_is_zero_and_grows_with_the_shift() -> None:
    assert population_stability_index([0.25] * 4, [0.25] * 4) == pytest.approx(0.0)
    small = population_stability_index([0.3, 0.2, 0.25, 0.25], [0.25] * 4)
    large = population_stability_index([0.7, 0.1, 0.1, 0.1], [0.25] * 4)
    assert 0.0 < small < 0.1 < large


def test_monitor_when_live_values_follow_training_then_no_event() -> None:
    rng = np.random.default_rng(7)
    monitor = PsiMonitor(a_profile(), PsiConfig(window=500, check_every=50))
    events, readings = [], []
    for step in range(3_000):
        new_events, new_readings = monitor.update(a_row(step, rng.gamma(2.0, 1.0), rng.uniform(-1, 1)))
        events += new_events
        readings += new_readings
    assert events == []
    assert readings and max(reading.psi for reading in readings) < 0.1


def test_monitor_when_one_feature_shifts_then_one_event_for_that_feature_only() -> None:
    rng = np.random.default_rng(7)
    monitor = PsiMonitor(a_profile(), PsiConfig(window=500, check_every=50))
    events = []
    for step in range(4_000):
        spread = rng.gamma(2.0, 1.0) * (3.0 if step >= 2_000 else 1.0)
        events += monitor.update(a_row(step, spread, rng.uniform(-1, 1)))[0]
    assert [(event.feature, event.detector, event.kind) for event in events] == [
        ("spread_bps", "psi", "feature_investigation")]
    assert events[0].statistic > 0.1 and events[0].ts_ns >= 1_000 + 2_000


def test_monitor_re_arms_only_after_the_psi_falls_below_half_the_threshold() -> None:
    rng = np.random.default_rng(3)
    monitor = PsiMonitor(a_profile(), PsiConfig(window=300, check_every=30))
    events = []
    for step in range(6_000):
        shifted = 2_000 <= step < 3_500 or step >= 4_500
        events += monitor.update(a_row(step, rng.gamma(2.0, 1.0) * (3.0 if shifted else 1.0),
                                       rng.uniform(-1, 1)))[0]
    assert [(event.feature, event.ts_ns - 1_000 >= start) for event, start in zip(events, (2_000, 4_500))] == [
        ("spread_bps", True), ("spread_bps", True)]


def test_monitor_skips_values_that_are_not_finite() -> None:
    monitor = PsiMonitor(a_profile(), PsiConfig(window=20, check_every=1))
    for step in range(50):
        monitor.update(a_row(step, float("nan"), float("inf")))
    assert monitor.last_psi == {}


def test_monitor_pickles_with_its_windows_and_continues_identically() -> None:
    rng = np.random.default_rng(5)
    rows = [a_row(step, rng.gamma(2.0, 1.0) * (3 if step > 700 else 1)) for step in range(1_500)]
    straight = PsiMonitor(a_profile(), PsiConfig(window=300, check_every=30))
    resumed = PsiMonitor(a_profile(), PsiConfig(window=300, check_every=30))
    expected = [straight.update(row) for row in rows]
    got = [resumed.update(row) for row in rows[:600]]
    resumed = pickle.loads(pickle.dumps(resumed))
    got += [resumed.update(row) for row in rows[600:]]
    assert got == expected


OPEN_NS = 1_381_325_400_000_000_000  # 2013-10-09 09:30 New York
QUARTERS = (0.25, 0.25, 0.25, 0.25)


def open_rows(count: int) -> list[FeatureRow]:
    """Rows of the session's first minutes, with wide spreads as at a real open."""
    return [FeatureRow("IBM", OPEN_NS + i * 1_000_000_000, 0, i, 185.0, ("spread_bps",), ((4.5, 5.5, 6.5, 7.5)[i % 4],))
            for i in range(count)]


def test_the_open_is_compared_with_the_training_open_when_the_profile_has_segments() -> None:
    whole_day = {"spread_bps": ((1.0, 2.0, 3.0), QUARTERS)}
    segmented = PsiMonitor(FeatureProfile({**whole_day, "spread_bps@open": ((5.0, 6.0, 7.0), QUARTERS)}),
                           PsiConfig(window=100, check_every=50))
    plain = PsiMonitor(FeatureProfile(whole_day), PsiConfig(window=100, check_every=50))
    segmented_out = [segmented.update(row) for row in open_rows(400)]
    plain_events = [event for row in open_rows(400) for event in plain.update(row)[0]]
    assert [event for events, _ in segmented_out for event in events] == []
    assert {reading.feature for _, readings in segmented_out for reading in readings} == {"spread_bps@open"}
    assert segmented.last_psi["spread_bps@open"] == pytest.approx(0.0, abs=1e-9)
    assert [event.feature for event in plain_events] == ["spread_bps"]


def test_segmented_columns_split_training_values_by_session_segment() -> None:
    stamps = [OPEN_NS + minutes * 60_000_000_000 for minutes in (5, 100, 375, -60)]
    columns = segmented_columns({"spread_bps": [6.0, 2.0, 3.0, 9.0]}, stamps)
    assert {name: values.tolist() for name, values in columns.items()} == {
        "spread_bps": [6.0, 2.0, 3.0, 9.0], "spread_bps@open": [6.0], "spread_bps@midday": [2.0],
        "spread_bps@close": [3.0]}
