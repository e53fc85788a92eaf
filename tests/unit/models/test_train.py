from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.labels import make_labels
from models.manifest import MODEL_NAMES
from models.train import DEFAULT_EXCLUDED_FEATURES, TrainConfig, train_ensemble, used_features

from .conftest import TEST_CONFIG, TEST_HORIZONS


def test_train_ensemble_writes_xgboost_json_models_and_manifest(trained):
    out_dir, manifest = trained
    for name in MODEL_NAMES:
        model = json.loads((out_dir / f"{name}.json").read_text())
        assert "learner" in model  # XGBoost's own JSON format
    assert json.loads((out_dir / "manifest.json").read_text())["version"] == manifest["version"]
    assert manifest["version"].startswith("tw-") and len(manifest["version"]) == 15
    assert manifest["horizon_ns"] == TEST_HORIZONS.short_ns
    assert manifest["created_from"]["symbols"] == ["AAA", "BBB", "CCC"]


def test_train_ensemble_when_run_twice_then_same_version_and_identical_files(frame, trained, tmp_path):
    first_dir, first = trained
    second = train_ensemble(frame, tmp_path, TEST_CONFIG)
    assert second["version"] == first["version"]
    for name in MODEL_NAMES:
        assert (tmp_path / f"{name}.json").read_bytes() == (first_dir / f"{name}.json").read_bytes()


def test_raw_price_levels_are_excluded_from_every_model(trained):
    _, manifest = trained
    for name in MODEL_NAMES:
        used = manifest["models"][name]["features"]
        assert "last_price" not in used and "atr_1m" not in used
    assert "order_flow_imbalance" in manifest["models"]["trend"]["features"]
    assert "last_price" in manifest["feature_names"]  # the stream still sends it: input order is the full list


def test_exclusion_patterns_keep_ratio_features():
    names = ["vwap_1m", "vwap_deviation_1m", "ema_1m", "ewma_volatility_1m", "bollinger_upper_1m", "bollinger_percent_b_1m", "spread", "spread_bps"]
    assert used_features(names, DEFAULT_EXCLUDED_FEATURES) == [
        "vwap_deviation_1m", "ewma_volatility_1m", "bollinger_percent_b_1m", "spread_bps",
    ]


def test_time_slices_are_embargoed_by_the_longest_horizon(trained):
    _, manifest = trained
    created = manifest["created_from"]
    embargo = TEST_HORIZONS.longest_ns
    assert created["specialists_ts_ns"][1] + embargo < created["meta_ts_ns"][0]
    assert created["meta_ts_ns"][1] + embargo < created["validation_ts_ns"][0]


def test_trend_model_on_planted_signal_beats_chance_on_held_out_data(trained):
    _, manifest = trained
    assert manifest["metrics"]["trend"]["auc"] > 0.56
    assert manifest["metrics"]["volatility"]["pearson_log"] > 0.5


def test_trend_model_when_labels_are_shuffled_then_held_out_auc_is_chance(frame, tmp_path):
    labels = make_labels(frame, TEST_HORIZONS)
    rng = np.random.default_rng(0)
    labels["trend"] = rng.permutation(labels["trend"].to_numpy())
    manifest = train_ensemble(frame, tmp_path, TEST_CONFIG, labels=labels)
    assert abs(manifest["metrics"]["trend"]["auc"] - 0.5) < 0.04


def test_metrics_report_naive_baselines(trained):
    _, manifest = trained
    for name in ("trend", "meta"):
        assert {"auc", "log_loss", "brier", "accuracy", "baseline_always_positive_accuracy",
                "baseline_past_return_sign_accuracy"} <= set(manifest["metrics"][name])
    assert {"mae_log", "pearson_log", "baseline_historical_mae_log", "baseline_historical_pearson_log"} <= set(
        manifest["metrics"]["volatility"]
    )


def test_train_config_when_embargo_shorter_than_horizon_then_raises():
    with pytest.raises(ValueError, match="embargo_ns"):
        TrainConfig(horizons=TEST_HORIZONS, embargo_ns=TEST_HORIZONS.long_ns - 1)


def test_train_ensemble_when_data_spans_less_than_the_embargo_then_raises(frame, tmp_path):
    short = frame[frame["ts_ns"] < frame["ts_ns"].min() + 200 * 10**9]
    with pytest.raises(ValueError, match="too little time"):
        train_ensemble(short, tmp_path, TEST_CONFIG)


def test_train_ensemble_when_a_feature_is_not_numeric_then_raises(frame, tmp_path: Path):
    with pytest.raises(ValueError, match="numeric"):
        train_ensemble(frame.assign(venue="X"), tmp_path, TEST_CONFIG)


def test_train_ensemble_when_labels_are_not_aligned_with_the_frame_then_raises(frame, tmp_path):
    labels = make_labels(frame, TEST_HORIZONS).iloc[1:]
    with pytest.raises(ValueError, match="index differs"):
        train_ensemble(frame, tmp_path, TEST_CONFIG, labels=labels)
