from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from models.labels import make_labels
from models.metrics import null_auc_bound, roc_auc
from models.train import fit_ensemble
from models.validation import (LeakageConfig, WalkForwardConfig, feature_leak_scan, out_of_fold, run_folds,
                               walk_forward_folds)

from .builders import TEST_CONFIG, TEST_HORIZONS

REACH = 50
TS = np.sort(np.random.default_rng(3).choice(10_000, 3_000, replace=False)).astype(np.int64)


@pytest.mark.parametrize("scheme", ["expanding", "rolling", "blocked"])
def test_no_training_row_label_window_overlaps_its_test_fold(scheme):
    for fold in walk_forward_folds(TS, WalkForwardConfig(n_folds=4, scheme=scheme), label_reach_ns=REACH):
        train_ts = TS[fold.train]
        label_end = train_ts + REACH
        overlaps = (train_ts <= fold.test_end_ns) & (label_end >= fold.test_start_ns)
        assert not overlaps.any()
        assert not (fold.train & fold.test).any()
        assert fold.purged > 0


def test_expanding_folds_train_only_on_the_past_and_grow():
    folds = walk_forward_folds(TS, WalkForwardConfig(n_folds=4), label_reach_ns=REACH)
    assert [f.index for f in folds] == [1, 2, 3, 4]
    for fold in folds:
        assert TS[fold.train].max() + REACH < fold.test_start_ns
    assert all(a.train.sum() < b.train.sum() for a, b in zip(folds, folds[1:]))
    tested = np.sum([f.test for f in folds], axis=0)
    assert tested.max() == 1  # each row is tested at most once


def test_rolling_folds_keep_a_fixed_number_of_blocks():
    expanding = walk_forward_folds(TS, WalkForwardConfig(n_folds=4), label_reach_ns=REACH)
    rolling = walk_forward_folds(TS, WalkForwardConfig(n_folds=4, scheme="rolling", rolling_blocks=1), REACH)
    assert rolling[0].train.sum() == expanding[0].train.sum()
    assert rolling[3].train.sum() < expanding[3].train.sum() / 2


def test_embargo_drops_training_rows_just_after_the_test_fold():
    embargo = 3 * REACH
    folds = walk_forward_folds(TS, WalkForwardConfig(n_folds=4, scheme="blocked", embargo_ns=embargo), REACH)
    for fold in folds[:-1]:
        after = TS[fold.train][TS[fold.train] > fold.test_end_ns]
        assert after.min() > fold.test_end_ns + embargo
        assert fold.embargoed == int(((TS > fold.test_end_ns) & (TS <= fold.test_end_ns + embargo)).sum())


def test_embargo_shorter_than_label_reach_is_refused():
    with pytest.raises(ValueError, match="shorter than the label reach"):
        walk_forward_folds(TS, WalkForwardConfig(embargo_ns=REACH - 1), label_reach_ns=REACH)


def test_out_of_fold_predictions_come_from_the_fold_that_did_not_train_on_them():
    target = (np.arange(len(TS)) % 2).astype(float)
    folds = walk_forward_folds(TS, WalkForwardConfig(n_folds=3), REACH)
    runs = run_folds(folds, target, lambda train, test: np.full(len(test), float(len(train))))
    predictions, source = out_of_fold(runs, len(TS))
    for fold, run in zip(folds, runs):
        assert np.all(source[fold.test] == fold.index)
        assert np.all(predictions[fold.test] == fold.train.sum())
    assert np.all(source[TS < folds[0].test_start_ns] == -1)


def test_null_auc_bound_holds_for_scores_independent_of_labels():
    rng = np.random.default_rng(9)
    outside = 0
    for _ in range(300):
        y = rng.random(2000) < 0.4
        outside += abs(roc_auc(y, rng.random(2000)) - 0.5) > null_auc_bound(int(y.sum()), int((~y).sum()), z=3.0)
    assert outside <= 3  # 3 standard errors: 0.27 % expected


def test_leakage_suite_when_labels_are_shuffled_then_every_fold_auc_is_inside_the_noise_band(trained):
    _, manifest = trained
    check = manifest["validation"]["leakage"]["shuffled_labels"]["trend"]
    assert check["passed"]
    for fold in check["folds"]:
        assert fold["rows"] > 1000 and 0.02 < fold["bound"] < 0.06  # 4 standard errors at ~4,000 rows
        assert abs(fold["auc"] - 0.5) <= fold["bound"]


def test_leakage_suite_on_honest_features_then_passes(trained):
    _, manifest = trained
    leakage = manifest["validation"]["leakage"]
    assert leakage["passed"] and leakage["findings"] == []


def test_leakage_suite_when_a_future_return_is_shifted_into_a_feature_then_it_fires(frame):
    labels = make_labels(frame, TEST_HORIZONS)
    leaked = frame.assign(future_hint=labels["future_return_long"].to_numpy())  # the trend label's own return
    config = replace(TEST_CONFIG, n_estimators=20, shuffled_control=(), write_report=False)
    leakage = fit_ensemble(leaked, config, labels).manifest["validation"]["leakage"]
    assert not leakage["passed"]
    assert any("trend: median out-of-sample fold AUC" in f for f in leakage["findings"])
    assert "future_hint" in leakage["suspicious_features"]["trend"]
    assert leakage["suspicious_features"]["trend"]["future_hint"] > 0.9


def test_feature_leak_scan_widens_its_band_when_labels_overlap():
    rng = np.random.default_rng(1)
    y = (rng.random(5000) < 0.5).astype(float)
    weak = y * 0.2 + rng.random(5000)  # a real but weak signal, AUC ~0.69
    x = np.column_stack([weak, y + 0.01 * rng.random(5000)])
    rows = np.arange(5000)
    assert set(feature_leak_scan(x, y, ["weak", "leak"], rows, LeakageConfig())) == {"weak", "leak"}
    assert set(feature_leak_scan(x, y, ["weak", "leak"], rows, LeakageConfig(), effective_labels=40)) == {"leak"}


@pytest.mark.parametrize(("setting", "message"), [({"edge_grace_ns": -1}, "edge_grace_ns must be a non-negative int"),
                                                  ({"edge_alpha": 0.0}, "edge_alpha must lie in"),
                                                  ({"edge_block_horizons": 1.5}, "edge_block_horizons must be >= 2")])
def test_leakage_config_when_an_edge_scan_setting_is_out_of_range_then_value_error_names_it(setting, message):
    with pytest.raises(ValueError, match=message):
        LeakageConfig(**setting)
