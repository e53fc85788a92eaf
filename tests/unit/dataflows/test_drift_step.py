"""The drift stage's step: the standardised monitor by default, River on request, identical on replay."""

from __future__ import annotations

import pickle

from dataflows.config_monitoring import MonitoringSection
from dataflows.steps import DriftStep
from operators.messages import FeatureRow
from operators.monitoring.drift import DriftConfig, FeatureDriftMonitor
from operators.monitoring.standardised import OPENED, StandardisedDriftMonitor

OPEN_NS = 1_381_325_400_000_000_000  # 2013-10-09 09:30 New York


def session_rows() -> list[FeatureRow]:
    rows = []
    for second in range(3 * 3600):
        spread = 1.0 + 0.1 * (((second * 7919) % 2003) / 1001.5 - 1.0) + (0.3 if second >= 3600 else 0.0)
        rows.append(FeatureRow("IBM", OPEN_NS + second * 1_000_000_000, 0, second, 185.0, ("spread_bps",), (spread,)))
    return rows


def run(step: DriftStep, rows: list[FeatureRow], snapshot_at: int | None = None) -> list:
    state, out = None, []
    for index, row in enumerate(rows):
        if index == snapshot_at:
            state = pickle.loads(pickle.dumps(state))
        state, emitted = step(state, row)
        out += emitted
    return out


def test_the_default_settings_run_the_standardised_monitor() -> None:
    step = DriftStep(MonitoringSection().drift_config())
    state, _ = step(None, session_rows()[0])
    assert isinstance(state.detectors, StandardisedDriftMonitor)
    river, _ = DriftStep(DriftConfig(detector="adwin"))(None, session_rows()[0])
    assert isinstance(river.detectors, FeatureDriftMonitor)


def test_drift_events_are_identical_on_replay_and_across_a_snapshot() -> None:
    rows = session_rows()
    step = DriftStep(DriftConfig())
    straight = run(step, rows)
    assert [e.kind for e in straight][:1] == [OPENED]
    assert run(DriftStep(DriftConfig()), rows) == straight == run(step, rows, snapshot_at=3_700)


def test_drift_settings_reach_the_monitor() -> None:
    config = MonitoringSection(drift_open_level=9.0, drift_close_level=4.0, drift_min_gap_s=60).drift_config()
    assert (config.standardised.open_level, config.standardised.close_level, config.standardised.min_gap_s) == (
        9.0, 4.0, 60)
