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


class _Trained:
    """What ``check_feature_set`` reads of an ensemble: its version and its manifest's feature set."""

    def __init__(self, feature_set: str) -> None:
        self.version = "tw-test"
        self.manifest = {"feature_set": feature_set}


BASE = "2cb0004afab549bb"


@pytest.mark.parametrize("flow", [BASE, BASE + "+events1", BASE + "+events1+options1"])
def test_check_feature_set_when_base_hashes_differ_then_refused(flow: str) -> None:
    with pytest.raises(FeatureSetMismatch, match="retrain it with `tickwise train`"):
        check_feature_set(_Trained("cccccccccccccccc"), flow)  # type: ignore[arg-type]
    with pytest.raises(FeatureSetMismatch):
        check_feature_set(_Trained("cccccccccccccccc+events1"), flow)  # type: ignore[arg-type]


@pytest.mark.parametrize("flow", [BASE, BASE + "+events1", BASE + "+options1", BASE + "+events1+options1"])
def test_check_feature_set_when_model_has_no_extensions_then_accepted_by_a_flow_with_any(flow: str) -> None:
    check_feature_set(_Trained(BASE), flow)  # type: ignore[arg-type]


@pytest.mark.parametrize(("model", "flow"), [(BASE + "+events1", BASE + "+events1"),
                                             (BASE + "+events1", BASE + "+events1+options1"),
                                             (BASE + "+options1", BASE + "+events1+options1"),
                                             (BASE + "+events1+options1", BASE + "+events1+options1")])
def test_check_feature_set_when_the_models_extensions_are_among_the_flows_then_accepted(model: str, flow: str) -> None:
    check_feature_set(_Trained(model), flow)  # type: ignore[arg-type]


@pytest.mark.parametrize(("model", "flow", "setting"), [
    (BASE + "+events1", BASE, "turn on TICKWISE_EVENTS to score it"),
    (BASE + "+events1", BASE + "+options1", "turn on TICKWISE_EVENTS to score it"),
    (BASE + "+options1", BASE + "+events1", "turn on TICKWISE_OPTIONS_JOIN to score it"),
    (BASE + "+events1+options1", BASE, "turn on TICKWISE_EVENTS and TICKWISE_OPTIONS_JOIN to score it"),
])
def test_check_feature_set_when_the_model_needs_a_join_the_flow_lacks_then_one_sentence_naming_the_setting(
        model: str, flow: str, setting: str) -> None:
    with pytest.raises(FeatureSetMismatch) as refused:
        check_feature_set(_Trained(model), flow)  # type: ignore[arg-type]

    message = str(refused.value)
    assert message.startswith(f"model tw-test was trained on feature set {model}, whose ")
    assert setting in message and message.count(". ") == 0 and "\n" not in message


def test_check_feature_set_when_the_model_has_order_book_features_the_flow_does_not_join_then_retrain() -> None:
    with pytest.raises(FeatureSetMismatch, match=r"whose \+l2\.0a1b2c3d features .* retrain it"):
        check_feature_set(_Trained(BASE + "+l2.0a1b2c3d+events1"), BASE + "+events1")  # type: ignore[arg-type]


def test_build_components_with_events_on_accepts_a_model_trained_with_events_and_refuses_it_with_events_off(
        registry: dict, tmp_path: Path) -> None:
    ensemble = registry["ensembles"]["1"]
    settings = {"run": {"state_dir": tmp_path}, "clickhouse": {"url": f"chdb://{tmp_path / 'chdb'}"}}
    off = load_settings(**settings)
    on = load_settings(events={"markets": ("US",)}, **settings)
    trained = Ensemble({**ensemble.manifest, "feature_set": flow_feature_set(off) + "+events1"}, ensemble._boosters)

    assert build_components(on, ensemble=trained, registry=MetricsRegistry()).ensemble is trained
    with pytest.raises(FeatureSetMismatch, match="turn on TICKWISE_EVENTS"):
        build_components(off, ensemble=trained, registry=MetricsRegistry())
