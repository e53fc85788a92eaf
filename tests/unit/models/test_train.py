from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from models.labels import make_labels
from models.metrics import null_auc_bound
from models.manifest import MODEL_NAMES, SPECIALISTS
from models.train import DEFAULT_EXCLUDED_FEATURES, TrainConfig, train_ensemble, used_features

from .builders import TEST_CONFIG, TEST_HORIZONS


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
    second = train_ensemble(frame, tmp_path, replace(TEST_CONFIG, write_report=False))
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


def test_held_out_slice_is_embargoed_from_everything_trained_on(trained):
    _, manifest = trained
    created = manifest["created_from"]
    embargo = TEST_HORIZONS.longest_ns
    assert created["specialists_ts_ns"][1] + embargo < created["validation_ts_ns"][0]
    assert created["meta_ts_ns"][1] + embargo < created["validation_ts_ns"][0]


def test_meta_model_trains_only_on_out_of_fold_predictions(fitted, frame):
    """By construction: every meta training row was predicted by fold k's models, and none of
    fold k's specialist or regime models saw that row."""
    meta_rows = fitted.seen["meta/final"]
    assert len(meta_rows) > 1000
    folds = fitted.oof_fold[meta_rows]
    assert np.all(folds >= 1)
    for k in np.unique(folds):
        rows_of_fold = meta_rows[folds == k]
        for name in (*SPECIALISTS, "regime"):
            assert not np.isin(rows_of_fold, fitted.seen[f"{name}/fold{k}"]).any(), (name, k)
            # and the fold's model only saw rows whose labels end before the fold's first row
            first_test_ts = frame["ts_ns"].to_numpy()[rows_of_fold].min()
            last_seen_ts = frame["ts_ns"].to_numpy()[fitted.seen[f"{name}/fold{k}"]].max()
            assert last_seen_ts + TEST_HORIZONS.longest_ns < first_test_ts


def test_meta_model_folds_train_on_earlier_out_of_fold_blocks_only(fitted):
    n_folds = TEST_CONFIG.walk_forward.n_folds
    assert "meta/fold1" not in fitted.seen  # fold 1's block has no earlier out-of-fold block to learn from
    for k in range(2, n_folds + 1):
        folds = fitted.oof_fold[fitted.seen[f"meta/fold{k}"]]
        assert np.all((folds >= 1) & (folds < k))


def test_final_specialists_never_see_held_out_rows(fitted, trained):
    _, manifest = trained
    held_out_start = manifest["created_from"]["validation_ts_ns"][0]
    for key, rows in fitted.seen.items():
        assert rows.size == 0 or rows.max() < len(fitted.oof_fold), key
    ts = fitted.manifest["created_from"]
    assert ts["specialists_ts_ns"][1] < held_out_start


def test_trend_model_on_planted_signal_beats_chance_on_held_out_data(trained):
    _, manifest = trained
    assert manifest["metrics"]["trend"]["auc"] > 0.56
    assert manifest["metrics"]["volatility"]["pearson_log"] > 0.5


def test_trend_model_when_labels_are_shuffled_then_held_out_auc_is_chance(frame, tmp_path):
    labels = make_labels(frame, TEST_HORIZONS)
    rng = np.random.default_rng(0)
    labels["trend"] = rng.permutation(labels["trend"].to_numpy())
    manifest = train_ensemble(frame, tmp_path, replace(TEST_CONFIG, write_report=False), labels=labels)
    held = manifest["metrics"]["trend"]
    bound = null_auc_bound(round(held["rows"] * held["positive_rate"]), round(held["rows"] * (1 - held["positive_rate"])))
    assert abs(held["auc"] - 0.5) < bound


def test_metrics_report_naive_baselines(trained):
    _, manifest = trained
    for name in ("trend", "meta"):
        assert {"auc", "log_loss", "brier", "accuracy", "calibration", "baseline_always_positive_accuracy",
                "baseline_past_return_sign_accuracy"} <= set(manifest["metrics"][name])
        for fold in manifest["validation"]["folds"][name]:
            assert {"auc", "log_loss", "brier", "calibration", "baseline_past_return_sign_accuracy"} <= set(fold)
        assert sum(b["rows"] for b in manifest["metrics"][name]["calibration"]) == manifest["metrics"][name]["rows"]
    assert {"accuracy", "baseline_majority_accuracy"} <= set(manifest["metrics"]["regime"])
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


def test_shipped_default_model_trained_on_real_ticks_passes_its_leakage_suite_and_scores():
    """The real-data check: models/default/ was trained by `tickwise train` on the real tick days."""
    from models.ensemble import Ensemble
    from models.registry import DEFAULT_MODEL_DIR

    manifest = json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())
    leakage = manifest["validation"]["leakage"]
    assert leakage["passed"], leakage["findings"]
    for fold in leakage["shuffled_labels"]["trend"]["folds"]:
        assert fold["rows"] > 10_000 and abs(fold["auc"] - 0.5) <= fold["bound"] < 0.03
    assert manifest["models"]["meta"]["trained_on"] == "out_of_fold_predictions"
    assert manifest["created_from"]["symbols"] == ["AIG", "BAC", "IBM", "SPY"]
    for name in ("trend", "mean_reversion", "meta"):  # honest, not implausibly good
        assert abs(manifest["metrics"][name]["auc"] - 0.5) < 0.2
    for name in manifest["report"].values():
        assert (DEFAULT_MODEL_DIR / name).is_file()
    ensemble = Ensemble.load(DEFAULT_MODEL_DIR)
    out = ensemble.predict(np.full((2, len(ensemble.feature_names)), np.nan))
    assert len(out) == 2 and set(out.regime) <= {"calm", "normal", "turbulent"}


def test_shipped_default_model_holds_out_the_last_tick_day_and_reports_skill_per_model_and_symbol():
    """2013-10-09 is held out from every model; the report's yes/no rows cover every model and symbol."""
    from models.registry import DEFAULT_MODEL_DIR
    from models.skill import SkillRow

    manifest = json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())
    held_out_from = 1_381_276_800 * 10**9  # 2013-10-09 00:00 UTC
    created = manifest["created_from"]
    assert manifest["config"]["held_out_from_ns"] == held_out_from
    assert created["validation_ts_ns"][0] >= held_out_from > created["specialists_ts_ns"][1]
    assert created["meta_ts_ns"][1] < held_out_from
    rows = [SkillRow.from_dict(row) for row in manifest["skill"]]
    assert {(r.model, r.symbol) for r in rows} >= {(m, s) for m in ("trend", "mean_reversion", "volatility", "meta")
                                                   for s in ("ALL", "AIG", "BAC", "IBM", "SPY")}
    for row in rows:  # the verdict follows from the interval, never from a point estimate
        assert row.beats == (row.difference.high < 0 if row.lower_is_better else row.difference.low > 0)
    micro = manifest["micro"]
    assert micro["held_out_day"] == "2013-10-09"
    assert {r["symbol"] for r in micro["skill"]} == {"ALL", "AIG", "BAC", "IBM"}
    assert manifest["bars"]["held_out_from"] >= "2019-01-01" and manifest["bars"]["skill"]
    if manifest["calibration"]["source"] == "none":  # no skill: every prediction says 0.5
        assert manifest["calibration"]["a"] == manifest["calibration"]["b"] == 0.0


def test_regime_mixture_of_each_fold_is_fitted_on_that_folds_training_rows_only(frame, fitted, monkeypatch):
    from models import training_data

    calls: list[np.ndarray] = []
    original = training_data.RegimeLabels.fit_on

    def recording(self, rows):
        calls.append(np.array(rows))
        return original(self, rows)

    monkeypatch.setattr(training_data.RegimeLabels, "fit_on", recording)
    from models.train import fit_ensemble

    again = fit_ensemble(frame, replace(TEST_CONFIG, write_report=False))
    regime_folds = sorted(key for key in again.seen if key.startswith("regime/fold"))
    assert len(calls) == len(regime_folds) >= 2
    for rows, key in zip(calls, regime_folds):
        assert set(again.seen[key]) <= set(rows.tolist())  # the classifier trained on rows its mixture saw
        test_start = min(ts for ts in frame["ts_ns"].to_numpy()[np.flatnonzero(again.oof_fold == int(key[-1]))])
        assert frame["ts_ns"].to_numpy()[rows].max() < test_start  # the mixture never saw its test block
    assert again.manifest["calibration"] == fitted.manifest["calibration"]  # deterministic
    assert again.manifest["metrics"]["regime"] == fitted.manifest["metrics"]["regime"]
