"""ONNX export: every model of an ensemble, scored by onnxruntime on real feature rows, within 1e-5 of XGBoost.

The rows come from the live feature stage (``run_backfill``) over one hour of IBM's real
ticks; the ensemble is trained on the first part of those rows with the default model sizes
(100 trees, depth 4) and checked on all of them, meta-model inputs included.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest

from dataflows.backfill import _NoModel, rows_to_frame, run_backfill
from dataflows.components import build_components
from dataflows.config import load_settings
from models.ensemble import Ensemble
from models.onnx_export import ONNX_INPUT, export_onnx, onnx_predict, parity, serving_inputs
from models.train import train_ensemble
from sinks.metrics import MetricsRegistry
from tests.unit.models.builders import TEST_CONFIG

HOUR_START = int(pd.Timestamp("2013-10-09 13:30", tz="UTC").value)
HOUR_END = int(pd.Timestamp("2013-10-09 20:00", tz="UTC").value)
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def exported(market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("onnx")
    settings = load_settings(clickhouse={"url": f"chdb://{work / 'chdb'}"}, run={"state_dir": work})
    components = build_components(settings, ensemble=_NoModel(), registry=MetricsRegistry())  # type: ignore[arg-type]
    files = [market_data / "trades.csv.gz", market_data / "quotes.csv.gz"]
    rows = run_backfill(components, files, HOUR_START, HOUR_END, symbols=["IBM"]).rows
    frame = rows_to_frame(rows).drop(columns=["offset"])
    model_dir, onnx_dir = work / "model", work / "onnx"
    train_ensemble(frame, model_dir, dataclasses.replace(TEST_CONFIG, n_estimators=100, min_child_weight=5.0))
    index = export_onnx(model_dir, onnx_dir)
    ensemble = Ensemble.load(model_dir)
    features = frame[list(ensemble.feature_names)].to_numpy(dtype=np.float64)
    return {"model_dir": model_dir, "onnx_dir": onnx_dir, "index": index, "ensemble": ensemble,
            "features": features}


def test_export_onnx_when_real_rows_then_every_model_within_1e_5_of_xgboost(exported: dict) -> None:
    assert len(exported["features"]) > 2_000
    assert np.isnan(exported["features"]).any(), "warm-up rows with missing features belong in the check"
    differences = parity(exported["model_dir"], exported["onnx_dir"], exported["features"])
    assert set(differences) == set(exported["ensemble"].manifest["models"])
    assert max(differences.values()) <= TOLERANCE, differences


def test_export_onnx_when_compared_then_outputs_are_not_constant(exported: dict) -> None:
    # Guards the parity test against a degenerate model (all-equal outputs would match trivially).
    inputs = serving_inputs(exported["ensemble"], exported["features"])
    for name, matrix in inputs.items():
        assert np.ptp(onnx_predict(exported["onnx_dir"], name, matrix), axis=0).max() > 1e-4, name


def test_export_onnx_when_written_then_index_names_input_columns_in_manifest_order(exported: dict) -> None:
    index, manifest = exported["index"], exported["ensemble"].manifest
    on_disk = json.loads((exported["onnx_dir"] / "onnx.json").read_text())
    assert on_disk == json.loads(json.dumps(index))
    assert index["ensemble_version"] == manifest["version"]
    for name, entry in index["models"].items():
        expected = manifest["models"][name].get("inputs") or manifest["models"][name]["features"]
        assert entry["input_columns"] == expected
        model = onnx.load(str(exported["onnx_dir"] / entry["file"]))
        (graph_input,) = model.graph.input
        assert graph_input.name == ONNX_INPUT
        assert graph_input.type.tensor_type.shape.dim[1].dim_value == len(expected)
    assert index["models"]["volatility"]["output"] == "variable"
    assert index["models"]["trend"]["output"] == "probabilities" and index["models"]["trend"]["column"] == 1
    assert (exported["onnx_dir"] / "manifest.json").read_text() == (exported["model_dir"] / "manifest.json").read_text()


def test_export_onnx_when_model_dir_has_no_manifest_then_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no manifest.json"):
        export_onnx(tmp_path, tmp_path / "out")
