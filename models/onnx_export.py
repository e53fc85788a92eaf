"""Export an ensemble's XGBoost models to ONNX, for .NET (ML.NET / Microsoft.ML.OnnxRuntime) clients.

Each booster becomes ``<name>.onnx`` with one float32 input ``input`` of shape ``[N, k]``;
its columns are, in order, the model's ``features`` from the manifest (the meta model's are
``models.meta.inputs``: the specialists' outputs, then raw features). Boosters are trained on
unnamed numpy columns, so XGBoost calls them ``f0..f{k-1}``, which is what the converter
expects. Outputs, by objective:

* ``binary:logistic``: ``label`` ``[N]`` and ``probabilities`` ``[N, 2]``; column 1 is XGBoost's value;
* ``multi:softprob``: ``label`` ``[N]`` and ``probabilities`` ``[N, classes]``;
* ``reg:*``: ``variable`` ``[N, 1]``.

``onnx.json`` beside the files lists this per model; ``manifest.json`` is copied unchanged
(feature order, regime labels, horizons, dead zone, score reference, the meta inputs of
specialists without weight (``models.meta.weighted``: set to 0.5 / 0) and the ``calibration``
map ``sigmoid(a * logit(p_source) + b)``: what a client needs to combine the models the way
``Ensemble.predict`` does). The microstructure and bar models are not exported yet.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from models.ensemble import Ensemble
from models.manifest import MANIFEST_FILE, read_manifest

ONNX_INPUT = "input"
ONNX_INDEX_FILE = "onnx.json"
TARGET_OPSET = 15


def booster_objective(booster: xgb.Booster) -> str:
    return json.loads(booster.save_config())["learner"]["objective"]["name"]


def model_inputs(manifest: Mapping[str, Any], name: str) -> list[str]:
    """The column names of model ``name``'s input matrix, in order."""
    entry = manifest["models"][name]
    return list(entry.get("inputs") or entry["features"])


def output_spec(objective: str) -> dict[str, Any]:
    if objective == "binary:logistic":
        return {"output": "probabilities", "column": 1, "meaning": "probability of class 1"}
    if objective.startswith("multi:"):
        return {"output": "probabilities", "column": None, "meaning": "probability per class"}
    return {"output": "variable", "column": 0, "meaning": "regression value"}


def convert_booster(booster: xgb.Booster, n_inputs: int):  # -> onnx.ModelProto
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    if booster.feature_names is not None and list(booster.feature_names) != [f"f{i}" for i in range(n_inputs)]:
        raise ValueError(f"the ONNX converter needs features named f0..f{n_inputs - 1}, "
                         f"the booster has {booster.feature_names[:3]}...")
    return onnxmltools.convert_xgboost(booster, initial_types=[(ONNX_INPUT, FloatTensorType([None, n_inputs]))],
                                       target_opset=TARGET_OPSET)


def export_onnx(model_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Write ``<name>.onnx`` per booster, ``manifest.json`` and ``onnx.json`` to ``out_dir``; return the index."""
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    manifest = read_manifest(model_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    index: dict[str, Any] = {"ensemble_version": manifest["version"], "input": ONNX_INPUT, "dtype": "float32",
                             "models": {}}
    for name, entry in manifest["models"].items():
        booster = xgb.Booster(model_file=str(model_dir / entry["file"]))
        columns = model_inputs(manifest, name)
        if booster.num_features() != len(columns):
            raise ValueError(f"model {name!r} takes {booster.num_features()} inputs but the manifest lists {len(columns)}")
        objective = booster_objective(booster)
        proto = convert_booster(booster, len(columns))
        (out_dir / f"{name}.onnx").write_bytes(proto.SerializeToString())
        index["models"][name] = {"file": f"{name}.onnx", "objective": objective, "input_shape": [None, len(columns)],
                                 "input_columns": columns, **output_spec(objective)}
    shutil.copy2(model_dir / MANIFEST_FILE, out_dir / MANIFEST_FILE)
    (out_dir / ONNX_INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n")
    return index


class _Recorder:
    """Stands in for a booster inside ``Ensemble`` and keeps the matrix it was asked to score."""

    def __init__(self, booster: xgb.Booster) -> None:
        self.booster = booster
        self.inputs: np.ndarray | None = None

    def num_features(self) -> int:
        return self.booster.num_features()

    def inplace_predict(self, matrix: np.ndarray, **kwargs: Any) -> np.ndarray:
        self.inputs = np.array(matrix, dtype=np.float64)
        return self.booster.inplace_predict(matrix, **kwargs)


def serving_inputs(ensemble: Ensemble, features: np.ndarray) -> dict[str, np.ndarray]:
    """The exact matrix each model receives when ``ensemble.predict(features)`` runs (meta inputs
    included), recorded rather than rebuilt so the check follows whatever ``predict`` does."""
    recorders = {name: _Recorder(booster) for name, booster in ensemble._boosters.items()}  # noqa: SLF001
    probe = Ensemble(ensemble.manifest, recorders)  # type: ignore[arg-type]
    probe.predict(features)
    missing = [name for name, recorder in recorders.items() if recorder.inputs is None]
    if missing:
        raise RuntimeError(f"Ensemble.predict did not call models {missing}")
    return {name: recorder.inputs for name, recorder in recorders.items()}  # type: ignore[misc]


def onnx_predict(onnx_dir: Path, name: str, matrix: np.ndarray) -> np.ndarray:
    """Score ``matrix`` with ``<name>.onnx`` the way a client does, returning XGBoost's layout."""
    import onnxruntime as ort

    index = json.loads((Path(onnx_dir) / ONNX_INDEX_FILE).read_text())["models"][name]
    session = ort.InferenceSession(str(Path(onnx_dir) / index["file"]), providers=["CPUExecutionProvider"])
    outputs = dict(zip([o.name for o in session.get_outputs()],
                       session.run(None, {ONNX_INPUT: np.asarray(matrix, dtype=np.float32)})))
    values = np.asarray(outputs[index["output"]], dtype=np.float64)
    return values if index["column"] is None else values[:, index["column"]]


def parity(model_dir: Path, onnx_dir: Path, features: np.ndarray) -> dict[str, float]:
    """Largest absolute difference, per model, between ONNX Runtime and XGBoost on ``features``
    (rows in the ensemble's ``feature_names`` order, as the flow scores them)."""
    ensemble = Ensemble.load(Path(model_dir))
    differences = {}
    for name, matrix in serving_inputs(ensemble, features).items():
        expected = np.asarray(ensemble._boosters[name].inplace_predict(matrix), dtype=np.float64)  # noqa: SLF001
        got = onnx_predict(onnx_dir, name, matrix).reshape(expected.shape)
        differences[name] = float(np.max(np.abs(got - expected))) if len(matrix) else 0.0
    return differences
