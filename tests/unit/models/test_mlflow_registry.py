"""The MLflow registry on a real SQLite tracking store: training runs, versions, aliases, downloads."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import mlflow.xgboost
import numpy as np
import pytest
import xgboost as xgb

from dataflows.backfill import frame_sha256
from models.ensemble import Ensemble
from models.mlflow_registry import (TAG_PREFIX, ModelRef, RegistryConfig, RegistryError, client, download_version,
                                    get_version, list_versions, parse_model_uri, promote, ref_for)
from models.registry import resolve_model, resolve_model_dir
from tests.unit.models.builders import TEST_CONFIG, synthetic_frame, train_and_register

FEATURE_SET = "0123456789abcdef"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One embedded registry with two trained ensembles registered as versions 1 and 2."""
    root = tmp_path_factory.mktemp("registry")
    config = RegistryConfig.embedded(root / "mlflow")
    frame = synthetic_frame(seconds=3600)
    dirs, infos = [], []
    for seed in (1, 2):
        model_dir = root / f"ensemble{seed}"
        infos.append(train_and_register(config, frame, model_dir, seed=seed, n_estimators=5, feature_set=FEATURE_SET,
                                        data_sha256=frame_sha256(frame)))
        dirs.append(model_dir)
    return {"config": config, "dirs": dirs, "infos": infos, "root": root, "frame": frame}


def test_log_training_run_when_two_runs_then_two_versions_with_ensemble_and_feature_set_tags(store: dict) -> None:
    first, second = store["infos"]
    assert (first.version, second.version) == ("1", "2")
    for info, model_dir in zip(store["infos"], store["dirs"]):
        manifest = json.loads((model_dir / "manifest.json").read_text())
        assert info.ensemble_version == manifest["version"]
        assert info.tags[TAG_PREFIX + "feature_set"] == FEATURE_SET
        assert info.tags[TAG_PREFIX + "feature_names"].split(",") == manifest["feature_names"]
        assert info.tags[TAG_PREFIX + "data_sha256"] == frame_sha256(store["frame"])
        assert info.tags[TAG_PREFIX + "data_start_ns"] == str(manifest["created_from"]["ts_min_ns"])
        assert info.tags[TAG_PREFIX + "lib.xgboost"] == xgb.__version__
        assert {key.removeprefix(TAG_PREFIX + "booster.") for key in info.tags
                if key.startswith(TAG_PREFIX + "booster.")} == set(manifest["models"])
    assert first.ensemble_version != second.ensemble_version


def test_log_training_run_when_logged_then_params_metrics_report_and_manifest_are_in_the_run(store: dict) -> None:
    config, info = store["config"], store["infos"][0]
    run = client(config).get_run(info.run_id)
    assert run.data.params["n_estimators"] == "5"
    assert run.data.params["horizons.short_ns"] == str(TEST_CONFIG.horizons.short_ns)
    assert any(key.startswith("meta.") for key in run.data.metrics), run.data.metrics
    artifacts = {item.path for item in client(config).list_artifacts(info.run_id, "ensemble")}
    assert "ensemble/manifest.json" in artifacts
    report = {item.path for item in client(config).list_artifacts(info.run_id, "report")}
    assert any(path.endswith(".png") for path in report) and any(path.endswith(".md") for path in report)


def test_each_booster_when_logged_then_xgboost_flavor_json_predicts_like_the_model_file(store: dict) -> None:
    config, info, model_dir = store["config"], store["infos"][0], store["dirs"][0]
    uri = info.tags[TAG_PREFIX + "booster.trend"]
    logged = client(config).get_logged_model(uri.removeprefix("models:/"))
    assert logged.source_run_id == info.run_id and logged.name == "trend"
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=logged.artifact_location))
    files = {path.name for path in local.rglob("*") if path.is_file()}
    assert "model.json" in files and not any(name.endswith((".pkl", ".pickle")) for name in files)
    assert "model_format: json" in (local / "MLmodel").read_text()
    loaded = mlflow.xgboost.load_model(str(local))
    original = xgb.Booster(model_file=str(model_dir / "trend.json"))
    x = np.random.default_rng(0).standard_normal((50, original.num_features()))
    np.testing.assert_array_equal(loaded.inplace_predict(x), original.inplace_predict(x))


def test_promote_when_alias_moves_then_get_version_and_list_follow_it(store: dict) -> None:
    config = store["config"]
    promote(config, "1", "champion")
    assert get_version(config, ModelRef(config.model_name, alias="champion")).version == "1"
    promote(config, "2", "champion")
    assert get_version(config, ModelRef(config.model_name, alias="champion")).version == "2"
    listed = {info.version: info.aliases for info in list_versions(config)}
    assert listed == {"2": ("champion",), "1": ()}


def test_resolve_model_when_registry_uri_then_downloaded_once_and_loads_as_that_version(store: dict) -> None:
    config, cache = store["config"], store["root"] / "cache"
    promote(config, "1", "staging")
    resolved = resolve_model(f"models:/{config.model_name}@staging", config, cache)
    assert resolved.registered is not None and resolved.registered.version == "1"
    assert Ensemble.load(resolved.path).version == store["infos"][0].ensemble_version
    stamp = (resolved.path / "manifest.json").stat().st_mtime_ns
    again = resolve_model_dir(f"models:/{config.model_name}/1", config, cache)
    assert again == resolved.path and (again / "manifest.json").stat().st_mtime_ns == stamp


def test_download_version_when_cache_holds_another_ensemble_then_replaced(store: dict) -> None:
    config, cache = store["config"], store["root"] / "stale-cache"
    info = get_version(config, ModelRef(config.model_name, version="2"))
    stale = cache / info.name / info.version
    stale.mkdir(parents=True)
    (stale / "manifest.json").write_text('{"version": "tw-000000000000"}')
    path = download_version(config, info, cache)
    assert Ensemble.load(path).version == info.ensemble_version


def test_get_version_when_unknown_version_then_registry_error_names_it(store: dict) -> None:
    with pytest.raises(RegistryError, match="has no models:/tickwise-ensemble/99"):
        get_version(store["config"], ModelRef("tickwise-ensemble", version="99"))


def test_resolve_model_when_uri_without_registry_then_one_sentence() -> None:
    with pytest.raises(FileNotFoundError, match="no MLflow registry is configured"):
        resolve_model("models:/tickwise-ensemble@champion")


@pytest.mark.parametrize("spec, expected", [
    ("models:/tickwise-ensemble@champion", ModelRef("tickwise-ensemble", alias="champion")),
    ("models:/other/12", ModelRef("other", version="12")),
])
def test_parse_model_uri_when_alias_or_version_then_ref(spec: str, expected: ModelRef) -> None:
    assert parse_model_uri(spec) == expected
    assert parse_model_uri(spec).uri == spec


@pytest.mark.parametrize("bad", ["models:/", "models:/x/latest", "models:/@champion", "models:/x@"])
def test_parse_model_uri_when_malformed_then_error_shows_the_forms(bad: str) -> None:
    with pytest.raises(RegistryError, match="models:/NAME@ALIAS or models:/NAME/VERSION"):
        parse_model_uri(bad)


def test_ref_for_when_number_alias_or_at_alias_then_ref_of_configured_model() -> None:
    config = RegistryConfig(tracking_uri="sqlite:///unused.db", model_name="m")
    assert ref_for(config, "3") == ModelRef("m", version="3")
    assert ref_for(config, "@champion") == ref_for(config, "champion") == ModelRef("m", alias="champion")
    with pytest.raises(RegistryError):
        ref_for(config, "no such/thing")


def test_list_versions_when_embedded_then_reading_sqlite_gives_what_mlflow_gives(store: dict) -> None:
    from models.mlflow_registry import _list_with_client, _read_embedded

    read = _read_embedded(store["config"])

    assert read is not None and [info.version for info in read] == ["2", "1"]
    assert read == _list_with_client(store["config"])


def test_register_shipped_when_registry_fresh_then_once_as_default_and_champion(tmp_path: Path) -> None:
    from models.mlflow_registry import SHIPPED_ALIAS, register_shipped
    from models.registry import DEFAULT_MODEL_DIR

    config = RegistryConfig.embedded(tmp_path / "mlflow")
    shipped = json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())["version"]

    first = register_shipped(config, DEFAULT_MODEL_DIR)
    again = register_shipped(config, DEFAULT_MODEL_DIR)

    assert first is not None and first.ensemble_version == shipped
    assert set(first.aliases) == {SHIPPED_ALIAS, "champion"}
    assert again is None
    assert [(info.version, info.aliases) for info in list_versions(config)] == [("1", ("champion", "default"))]
    assert get_version(config, ref_for(config, "default")).ensemble_version == shipped
