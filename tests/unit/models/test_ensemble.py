from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from models.ensemble import META_INPUTS, Ensemble, meta_inputs
from models.manifest import MODEL_NAMES, ManifestError
from models.registry import DEFAULT_MODEL_DIR, resolve_model_dir


class CountingBooster:
    """Wraps a Booster and counts inplace_predict calls and rows."""

    def __init__(self, booster: xgb.Booster) -> None:
        self.booster = booster
        self.calls = 0

    def inplace_predict(self, data: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.booster.inplace_predict(data)

    def num_features(self) -> int:
        return self.booster.num_features()


@pytest.fixture(scope="module")
def ensemble(trained) -> Ensemble:
    return Ensemble.load(trained[0])


@pytest.fixture(scope="module")
def features(frame, ensemble) -> np.ndarray:
    matrix = frame[list(ensemble.feature_names)].to_numpy(dtype=np.float64)
    rows = np.random.default_rng(4).choice(len(matrix), 1024, replace=False)
    batch = matrix[np.sort(rows)]
    batch[:3, :] = np.nan  # a symbol whose features are not ready yet
    return batch


def test_load_exposes_version_feature_names_and_horizon(trained, ensemble):
    _, manifest = trained
    assert ensemble.version == manifest["version"]
    assert ensemble.feature_names == tuple(manifest["feature_names"])
    assert ensemble.horizon_ns == manifest["horizon_ns"]


def test_predict_returns_one_value_per_row_in_valid_ranges(ensemble, features):
    out = ensemble.predict(features)
    assert len(out) == len(features)
    assert np.all((out.p_up > 0) & (out.p_up < 1))
    assert set(np.unique(out.direction)) <= {-1, 0, 1}
    np.testing.assert_array_equal(out.direction == 1, out.p_up > 0.5 + ensemble.dead_zone)
    np.testing.assert_array_equal(out.direction == -1, out.p_up < 0.5 - ensemble.dead_zone)
    np.testing.assert_allclose(out.confidence, np.maximum(out.p_up, 1 - out.p_up))
    assert np.all((out.confidence >= 0.5) & (out.confidence <= 1.0))
    assert np.all(out.volatility > 0) and np.all(np.isfinite(out.score))
    assert np.all(np.sign(out.score) == np.sign(2 * out.p_up - 1))
    assert set(out.regime) <= {"calm", "normal", "turbulent"} and len(set(out.regime)) == 3
    assert set(out.specialists) == {"trend", "mean_reversion", "volatility", "regime_calm", "regime_normal",
                                    "regime_turbulent"}
    regime_p = np.column_stack([out.specialists[f"regime_{r}"] for r in ("calm", "normal", "turbulent")])
    np.testing.assert_allclose(regime_p.sum(axis=1), 1.0, rtol=1e-6)


def test_predict_calls_inplace_predict_once_per_model_per_batch(trained, ensemble, features):
    counting = {name: CountingBooster(ensemble._boosters[name]) for name in MODEL_NAMES}
    counted = Ensemble(trained[1], counting)
    counted.predict(features)
    assert {name: b.calls for name, b in counting.items()} == {name: 1 for name in MODEL_NAMES}


def test_predict_in_one_batch_equals_row_by_row_and_any_batch_split(ensemble, features):
    whole = ensemble.predict(features)
    rows = [ensemble.predict(features[i : i + 1]) for i in range(0, 64)]
    for field in ("p_up", "regime", "score", "volatility"):
        np.testing.assert_array_equal(getattr(whole, field)[:64], np.concatenate([getattr(r, field) for r in rows]))
    chunks = [ensemble.predict(features[i : i + 100]) for i in range(0, len(features), 100)]
    for field in ("p_up", "direction", "volatility", "score"):
        np.testing.assert_array_equal(getattr(whole, field), np.concatenate([getattr(c, field) for c in chunks]))


def test_predict_equals_xgboost_booster_predict_on_dmatrix(trained, ensemble, features):
    model_dir, manifest = trained
    position = {name: i for i, name in enumerate(ensemble.feature_names)}

    def oracle(name: str, inputs: np.ndarray) -> np.ndarray:
        booster = xgb.Booster(model_file=str(model_dir / f"{name}.json"))
        return booster.predict(xgb.DMatrix(inputs, missing=np.nan)).astype(np.float64)

    def columns(name: str) -> np.ndarray:
        return features[:, [position[f] for f in manifest["models"][name]["features"]]]

    trend, reversion, log_vol = (oracle(n, columns(n)) for n in ("trend", "mean_reversion", "volatility"))
    regime_p = oracle("regime", columns("regime")).reshape(len(features), 3)
    inputs = meta_inputs(trend, reversion, log_vol, regime_p.argmax(axis=1), columns("meta"))
    names = [*META_INPUTS, *manifest["models"]["meta"]["features"]]
    for specialist, weighted in manifest["models"]["meta"]["weighted"].items():  # no skill: a neutral constant
        if not weighted:
            for column in ([f"{specialist}_p", f"{specialist}_confidence"] if specialist != "volatility"
                           else ["log_volatility_1s"]):
                inputs[:, names.index(column)] = 0.0 if column != f"{specialist}_p" else 0.5
    calibration = manifest["calibration"]
    source = {"meta": oracle("meta", inputs), "trend": trend}.get(calibration["source"], trend)
    p_up = 1 / (1 + np.exp(-(calibration["a"] * np.log(source / (1 - source)) + calibration["b"])))

    out = ensemble.predict(features)
    np.testing.assert_array_equal(out.specialists["trend"], trend)
    np.testing.assert_array_equal(out.specialists["mean_reversion"], reversion)
    np.testing.assert_array_equal(out.specialists["volatility"], np.exp(log_vol))
    np.testing.assert_allclose(out.p_up, p_up, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(out.regime, np.array(["calm", "normal", "turbulent"])[regime_p.argmax(axis=1)])
    np.testing.assert_array_equal(out.specialists["regime_turbulent"], regime_p[:, 2])


def test_predict_when_shape_is_wrong_then_raises_naming_the_expected_shape(ensemble):
    with pytest.raises(ValueError, match=rf"\(n, {len(ensemble.feature_names)}\)"):
        ensemble.predict(np.zeros((4, 2)))


def test_predict_on_empty_batch_returns_empty_arrays(ensemble):
    out = ensemble.predict(np.empty((0, len(ensemble.feature_names))))
    assert len(out) == 0 and len(out.regime) == 0


def test_feature_index_reorders_named_columns_into_model_order(ensemble, features):
    names = list(reversed(ensemble.feature_names)) + ["unused"]
    shuffled = np.column_stack([features[:, ::-1], np.zeros(len(features))])
    np.testing.assert_array_equal(shuffled[:, ensemble.feature_index(names)], features)
    with pytest.raises(ValueError, match="order_flow_imbalance"):
        ensemble.feature_index([n for n in names if n != "order_flow_imbalance"])


@pytest.fixture()
def model_copy(trained, tmp_path: Path) -> Path:
    return Path(shutil.copytree(trained[0], tmp_path / "model"))


def _edit_manifest(model_dir: Path, edit) -> None:
    path = model_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))


def _assert_load_refuses_in_one_sentence(model_dir: Path, contains: str) -> None:
    """Loading ``model_dir`` raises a ``ManifestError`` whose message is one sentence containing ``contains``."""
    with pytest.raises(ManifestError) as error:
        Ensemble.load(model_dir)
    message = str(error.value)
    assert contains in message and "\n" not in message and message.count(". ") == 0


def test_load_when_manifest_is_missing_then_one_clear_sentence(model_copy):
    (model_copy / "manifest.json").unlink()
    _assert_load_refuses_in_one_sentence(model_copy, "no manifest.json")


def test_load_when_a_model_file_is_missing_then_one_clear_sentence(model_copy):
    (model_copy / "meta.json").unlink()
    _assert_load_refuses_in_one_sentence(model_copy, "'meta.json' for 'meta'")


def test_load_when_a_model_file_was_replaced_then_version_mismatch(model_copy):
    shutil.copy(model_copy / "trend.json", model_copy / "mean_reversion.json")
    _assert_load_refuses_in_one_sentence(model_copy, "but the manifest says")


def test_load_when_a_model_uses_an_unknown_feature_then_one_clear_sentence(model_copy):
    _edit_manifest(model_copy, lambda m: m["models"]["trend"]["features"].append("moon_phase"))
    _assert_load_refuses_in_one_sentence(model_copy, "['moon_phase']")


def test_load_when_format_is_unknown_then_one_clear_sentence(model_copy):
    _edit_manifest(model_copy, lambda m: m.update(format="something-else"))
    _assert_load_refuses_in_one_sentence(model_copy, "expected 'tickwise-ensemble/3'")


def test_load_when_manifest_is_not_json_then_one_clear_sentence(model_copy):
    (model_copy / "manifest.json").write_text("{not json")
    _assert_load_refuses_in_one_sentence(model_copy, "is not valid JSON")


def test_resolve_model_dir_accepts_a_path_and_rejects_one_without_manifest(trained, tmp_path):
    assert resolve_model_dir(str(trained[0])) == trained[0].resolve()
    with pytest.raises(FileNotFoundError, match="has no manifest.json"):
        resolve_model_dir(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_model_dir(str(tmp_path / "absent"))


def test_resolve_model_dir_default_points_inside_the_package():
    if (DEFAULT_MODEL_DIR / "manifest.json").is_file():
        assert resolve_model_dir("default") == DEFAULT_MODEL_DIR
    else:
        with pytest.raises(FileNotFoundError, match="tickwise train"):
            resolve_model_dir("default")


def test_load_when_horizons_are_missing_then_one_clear_sentence(model_copy):
    _edit_manifest(model_copy, lambda m: m.pop("horizons"))
    _assert_load_refuses_in_one_sentence(model_copy, "'horizons'")


def test_load_when_a_scoring_setting_was_edited_then_version_mismatch(model_copy):
    _edit_manifest(model_copy, lambda m: m.update(dead_zone=0.1))
    _assert_load_refuses_in_one_sentence(model_copy, "but the manifest says")


def test_load_when_the_regime_mixture_file_is_missing_then_one_clear_sentence(model_copy):
    (model_copy / "regime_gmm.json").unlink()
    _assert_load_refuses_in_one_sentence(model_copy, "'regime_gmm.json'")


def test_load_when_the_regime_mixture_was_edited_then_version_mismatch(model_copy):
    path = model_copy / "regime_gmm.json"
    path.write_text(path.read_text().replace("calm", "quiet"))
    _assert_load_refuses_in_one_sentence(model_copy, "but the manifest says")
