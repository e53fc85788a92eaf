"""Live model swap logic: the watcher polls a real (SQLite) MLflow registry on an injected clock,
and the batch scorer switches at a batch boundary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dataflows.components import build_components, flow_feature_set
from dataflows.config import load_settings
from dataflows.model_watch import FeatureSetMismatch, ModelWatcher, check_feature_set
from dataflows.steps import BatchScorer
from models.ensemble import Ensemble
from models.mlflow_registry import ModelRef, RegistryConfig, get_version, promote
from operators.messages import FeatureRow
from sinks.metrics import MetricsRegistry
from tests.unit.models.builders import synthetic_frame, train_and_register

FEATURE_SET = "aaaaaaaaaaaaaaaa"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Versions 1 and 2 on the flow's feature set, version 3 on another one."""
    root = tmp_path_factory.mktemp("watch")
    config = RegistryConfig.embedded(root / "mlflow")
    frame = synthetic_frame(seconds=3600)
    ensembles = {}
    for seed, feature_set in ((1, FEATURE_SET), (2, FEATURE_SET), (3, "bbbbbbbbbbbbbbbb")):
        model_dir = root / f"ensemble{seed}"
        info = train_and_register(config, frame, model_dir, seed=seed, n_estimators=3, feature_set=feature_set)
        ensembles[info.version] = Ensemble.load(model_dir)
    return {"config": config, "root": root, "ensembles": ensembles, "frame": frame}


def _watcher(registry: dict, clock: Clock, current: str = "1") -> ModelWatcher:
    config = registry["config"]
    return ModelWatcher(config, ModelRef(config.model_name, alias="champion"), registry["root"] / "cache",
                        get_version(config, ModelRef(config.model_name, version=current)), FEATURE_SET,
                        interval_s=5.0, clock=clock)


def _rows(registry: dict, n: int = 8) -> list[FeatureRow]:
    frame = registry["frame"].head(n)
    names = tuple(c for c in frame.columns if c not in ("symbol", "ts_ns", "price"))
    return [FeatureRow(symbol=r.symbol, ts_ns=int(r.ts_ns), partition=0, offset=i, price=float(r.price),
                       names=names, values=tuple(float(getattr(r, c)) for c in names), feature_set=FEATURE_SET)
            for i, r in enumerate(frame.itertuples(index=False))]


def test_poll_when_interval_not_elapsed_then_registry_not_read_even_if_alias_moved(registry: dict) -> None:
    clock = Clock()
    promote(registry["config"], "1")
    watcher = _watcher(registry, clock)
    promote(registry["config"], "2")
    clock.now = 4.9
    assert watcher.poll() is None
    clock.now = 5.0
    swap = watcher.poll()
    assert swap is not None and swap.registered.version == "2"
    assert swap.ensemble.version == registry["ensembles"]["2"].version
    assert watcher.current_version == "2"
    clock.now = 10.0
    assert watcher.poll() is None  # alias still on 2: nothing new


def test_poll_when_new_version_has_other_feature_set_then_refused_once_and_old_model_kept(
        registry: dict, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    promote(registry["config"], "1")
    watcher = _watcher(registry, clock)
    promote(registry["config"], "3")
    clock.now = 5.0
    with caplog.at_level("ERROR", logger="tickwise.model"):
        assert watcher.poll() is None
    assert "trained on feature set bbbbbbbbbbbbbbbb but this flow computes feature set aaaaaaaaaaaaaaaa" in caplog.text
    assert watcher.current_version == "1"
    caplog.clear()
    clock.now = 10.0
    with caplog.at_level("ERROR", logger="tickwise.model"):
        assert watcher.poll() is None
    assert caplog.text == ""  # a refused version is not downloaded and refused again at every poll


def test_batch_scorer_when_alias_moves_then_next_batch_scored_by_new_version_and_callback_told(registry: dict) -> None:
    clock = Clock()
    promote(registry["config"], "1")
    swapped: list[str] = []
    old, new = registry["ensembles"]["1"], registry["ensembles"]["2"]
    scorer = BatchScorer(old, _watcher(registry, clock), on_swap=lambda e: swapped.append(e.version))
    rows = _rows(registry)
    assert {p.model_version for p in scorer(rows)} == {old.version}
    promote(registry["config"], "2")
    assert {p.model_version for p in scorer(rows)} == {old.version}  # before the poll interval
    clock.now = 6.0
    after = scorer(rows)
    assert {p.model_version for p in after} == {new.version} and swapped == [new.version]
    expected = new.predict(np.array([row.values for row in rows])[:, new.feature_index(rows[0].names)])
    assert [p.p_up for p in after] == pytest.approx(list(expected.p_up), abs=1e-12)


def test_check_feature_set_when_manifest_has_none_then_accepted_by_name(registry: dict) -> None:
    ensemble = registry["ensembles"]["1"]
    legacy = Ensemble({k: v for k, v in ensemble.manifest.items() if k != "feature_set"}, ensemble._boosters)
    check_feature_set(legacy, "anything")
    with pytest.raises(FeatureSetMismatch, match="was trained on feature set aaaaaaaaaaaaaaaa"):
        check_feature_set(ensemble, "cccccccccccccccc")


def test_build_components_when_registry_model_of_other_feature_set_then_refused_at_startup(
        registry: dict, tmp_path: Path) -> None:
    config = registry["config"]
    promote(config, "1")
    settings = load_settings(model={"spec": f"models:/{config.model_name}@champion", "mlflow_dir": registry["root"] / "mlflow"},
                             run={"state_dir": tmp_path}, clickhouse={"url": f"chdb://{tmp_path / 'chdb'}"})
    assert flow_feature_set(settings) != FEATURE_SET
    with pytest.raises(FeatureSetMismatch, match=r"\(tickwise-ensemble version 1\) was trained on feature set "
                                                 f"{FEATURE_SET} but this flow computes feature set "
                                                 f"{flow_feature_set(settings)}"):
        build_components(settings, registry=MetricsRegistry())
