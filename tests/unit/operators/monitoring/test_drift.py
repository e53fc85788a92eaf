"""Specifications of ``operators.monitoring.drift.FeatureDriftMonitor``, with River's ADWIN as the oracle."""

from __future__ import annotations

import csv
import gzip
import itertools
import math
import pickle
from pathlib import Path

import pytest
from river.drift import ADWIN

from operators.monitoring.drift import DriftConfig, FeatureDriftMonitor
from operators.messages.ids import stable_id
from operators.messages import DriftEvent, FeatureRow

NAMES = ("spread_bps", "depth_imbalance")
NAN = float("nan")


@pytest.fixture(scope="module")
def ibm_rows(market_data: Path) -> list[FeatureRow]:
    """Feature rows from the first 4,000 real IBM quotes of 2013-10-07 (pre-market into the open)."""
    rows: list[FeatureRow] = []
    with gzip.open(market_data / "quotes.csv.gz", "rt", newline="") as handle:
        quotes = (quote for quote in csv.DictReader(handle) if quote["symbol"] == "IBM")
        for offset, quote in enumerate(itertools.islice(quotes, 4_000)):
            bid, ask = float(quote["bid"]), float(quote["ask"])
            spread_bps = (ask - bid) / ((ask + bid) / 2) * 1e4
            depth_imbalance = math.log(float(quote["bid_size"]) / float(quote["ask_size"]))
            mid = (bid + ask) / 2
            rows.append(FeatureRow("IBM", int(quote["ts_ns"]), 0, offset, mid, NAMES, (spread_bps, depth_imbalance)))
    return rows


def oracle_drifts(values: list[float], config: DriftConfig) -> list[tuple[int, float]]:
    """(index, estimation) of every drift River's ADWIN reports on the series."""
    detector = ADWIN(delta=config.delta, clock=config.clock)
    drifts = []
    for index, value in enumerate(values):
        detector.update(value)
        if detector.drift_detected:
            drifts.append((index, detector.estimation))
    return drifts


def feed(monitor: FeatureDriftMonitor, rows: list[FeatureRow]) -> list[DriftEvent]:
    return [event for row in rows for event in monitor.update(row)]


def drift_indices(monitor: FeatureDriftMonitor, rows: list[FeatureRow], feature: str) -> list[tuple[int, float]]:
    """(row index, statistic) of every event the monitor emits for ``feature``."""
    return [
        (index, event.statistic)
        for index, row in enumerate(rows)
        for event in monitor.update(row)
        if event.feature == feature
    ]


def row_at(step: int, values: tuple[float, ...], names: tuple[str, ...] = NAMES) -> FeatureRow:
    return FeatureRow("AIG", 1_381_239_000_000_000_000 + step * 1_000_000, 1, step, 48.9, names, values)


@pytest.mark.parametrize("feature_index", [0, 1])
def test_update_when_fed_real_quotes_then_fires_where_river_adwin_fires(
    ibm_rows: list[FeatureRow], feature_index: int
) -> None:
    config = DriftConfig(detector="adwin", grace_samples=0)
    feature = NAMES[feature_index]
    expected = oracle_drifts([row.values[feature_index] for row in ibm_rows], config)
    assert len(expected) >= 5, "the real series should drift a few times"
    assert drift_indices(FeatureDriftMonitor(config), ibm_rows, feature) == expected


def test_update_when_in_grace_period_then_suppresses_only_the_early_drifts(ibm_rows: list[FeatureRow]) -> None:
    config = DriftConfig(detector="adwin")  # grace_samples=200
    all_drifts = oracle_drifts([row.values[0] for row in ibm_rows], config)
    expected = [(index, statistic) for index, statistic in all_drifts if index >= 200]
    assert len(expected) < len(all_drifts), "the real series drifts inside the grace period too"
    assert drift_indices(FeatureDriftMonitor(config), ibm_rows, "spread_bps") == expected


def test_update_when_drift_then_event_carries_deterministic_id_and_window_mean(ibm_rows: list[FeatureRow]) -> None:
    event = feed(FeatureDriftMonitor(DriftConfig(detector="adwin")), ibm_rows)[0]
    assert event.event_id == stable_id("IBM", event.feature, "adwin", event.ts_ns)
    assert (event.symbol, event.detector, event.kind) == ("IBM", "adwin", "feature_drift")
    assert math.isfinite(event.statistic)


def test_update_when_step_change_in_one_feature_then_fires_for_that_feature_only() -> None:
    monitor = FeatureDriftMonitor(DriftConfig(detector="adwin"))
    rows = []
    for step in range(1_500):
        wiggle = 0.25 * ((step * 7919) % 13 - 6) / 6  # deterministic bounded noise
        spread_bps = (1.5 if step < 800 else 4.0) + wiggle
        rows.append(row_at(step, (spread_bps, wiggle)))
    events = feed(monitor, rows)
    assert events, "a step from 1.5 to 4 bps must be detected"
    assert {event.feature for event in events} == {"spread_bps"}
    assert all(event.ts_ns >= rows[800].ts_ns for event in events)


def test_update_when_values_are_nan_or_infinite_then_they_never_reach_adwin(ibm_rows: list[FeatureRow]) -> None:
    config = DriftConfig(detector="adwin", grace_samples=0)
    gappy = []
    for row in ibm_rows[:2_000]:
        gappy.append(row)
        gappy.append(FeatureRow(row.symbol, row.ts_ns, row.partition, row.offset, row.price, NAMES, (NAN, math.inf)))
    monitor = FeatureDriftMonitor(config)
    events = feed(monitor, gappy)
    assert monitor.updates("spread_bps") == 2_000
    assert monitor.updates("depth_imbalance") == 2_000
    clean = feed(FeatureDriftMonitor(config), ibm_rows[:2_000])
    assert events == clean


def test_update_when_feature_is_always_nan_then_no_detector_is_created() -> None:
    monitor = FeatureDriftMonitor(DriftConfig(detector="adwin"))
    monitor.update(row_at(0, (NAN, 1.0)))
    assert monitor.updates("spread_bps") == 0
    assert "spread_bps" not in repr(monitor)


def test_update_when_features_are_configured_then_watches_only_those(ibm_rows: list[FeatureRow]) -> None:
    monitor = FeatureDriftMonitor(DriftConfig(detector="adwin", features=("depth_imbalance",), grace_samples=0))
    events = feed(monitor, ibm_rows)
    assert events and {event.feature for event in events} == {"depth_imbalance"}
    assert monitor.updates("spread_bps") == 0


def test_monitor_when_pickled_mid_stream_then_detects_identically(ibm_rows: list[FeatureRow]) -> None:
    config = DriftConfig(detector="adwin", grace_samples=0)
    original = FeatureDriftMonitor(config)
    feed(original, ibm_rows[:1_700])
    restored = pickle.loads(pickle.dumps(original))
    later = ibm_rows[1_700:]
    expected = feed(original, later)
    assert expected, "the second half should drift too"
    assert feed(restored, later) == expected


def test_reset_when_called_then_forgets_every_detector(ibm_rows: list[FeatureRow]) -> None:
    monitor = FeatureDriftMonitor(DriftConfig(detector="adwin", grace_samples=0))
    first = feed(monitor, ibm_rows)
    monitor.reset()
    assert monitor.updates("spread_bps") == 0
    assert feed(monitor, ibm_rows) == first


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"delta": 0.0}, "delta"),
        ({"delta": math.nan}, "delta"),
        ({"clock": 0}, "clock"),
        ({"grace_samples": -1}, "grace_samples"),
        ({"grace_samples": 2.0}, "grace_samples"),
        ({"features": ["spread_bps"]}, "features"),
        ({"features": ("",)}, "features"),
    ],
)
def test_drift_config_when_value_is_bad_then_raises_naming_it(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        DriftConfig(**overrides)  # type: ignore[arg-type]
