"""The ``manifest.json`` that travels with an ensemble: what it expects, how it was made.

The version is content-addressed: ``"tw-"`` + the first 12 hex digits of a sha256 over the
model files (in name order, the regime mixture's JSON included), the feature names and the
scoring settings that change outputs (per-model features, meta inputs, horizons, dead zone,
score reference), so the same data and configuration give the same version, two manifests
that score differently never share one, and any edited model file is caught on load.

Format 2 adds the ``regime`` XGBoost classifier to ``models`` (five models: three
specialists, regime, meta), ``regime.gmm_file`` (the Gaussian mixture that defines the
regimes, JSON), ``validation`` (walk-forward folds, out-of-fold meta training, leakage suite)
and ``report`` (the files of the validation report). ``regime.thresholds`` is kept for
readers of format 1 and is informational only: the classifier decides the regime.

Format 3 adds ``calibration`` (the source of the ensemble's probability and its Platt map,
``models.meta_policy``) and ``models.meta.weighted`` (which specialists the meta model may use),
and two optional parts, each with its files under its own ``dir``: ``micro`` (the
microstructure specialist, scored live beside the ensemble) and ``bars`` (the long-history
trend, volatility and regime models with their held-out skill).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "tickwise-ensemble/3"
CALIBRATION_SOURCES = ("meta", "trend", "base_rate", "none")
SPECIALISTS = ("trend", "mean_reversion", "volatility")
MODEL_NAMES = (*SPECIALISTS, "regime", "meta")
REGIMES = ("calm", "normal", "turbulent")


class ManifestError(ValueError):
    """A model directory that cannot be scored with; the message is one sentence saying why."""


def part_files(manifest: Mapping[str, Any], part: str) -> dict[str, str]:
    """The files of an optional part (``micro``: the microstructure specialist, ``bars``: the
    long-history models), relative to the model directory, by name."""
    section = manifest.get(part)
    if not section:
        return {}
    files = section.get("files") or {name: entry["file"] for name, entry in section.get("models", {}).items()}
    return {f"{part}/{name}": f"{section['dir']}/{file}" for name, file in sorted(files.items())}


def scoring_settings(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a manifest besides the model files that change what ``predict`` returns."""
    micro = manifest.get("micro")
    return {
        **({"micro_features": micro["feature_names"]} if micro else {}),
        "models": {name: manifest["models"][name]["features"] for name in MODEL_NAMES},
        "horizons": manifest["horizons"],
        "meta_inputs": manifest["models"]["meta"]["inputs"],
        "meta_weighted": manifest["models"]["meta"]["weighted"],
        "calibration": {key: manifest["calibration"][key] for key in ("source", "a", "b")},
        "regime_labels": manifest["regime"]["labels"],
        "dead_zone": manifest["dead_zone"],
        "reference_volatility": manifest["score"]["reference_volatility"],
    }


def model_version(model_files: Mapping[str, Path], feature_names: Sequence[str], scoring: Mapping[str, Any]) -> str:
    digest = hashlib.sha256()
    for name in sorted(model_files):
        digest.update(name.encode() + b"\0")
        digest.update(Path(model_files[name]).read_bytes())
        digest.update(b"\0")
    digest.update("\n".join(feature_names).encode() + b"\0")
    digest.update(json.dumps(scoring, sort_keys=True).encode())
    return "tw-" + digest.hexdigest()[:12]


def hashed_files(model_dir: Path, manifest: Mapping[str, Any]) -> dict[str, Path]:
    """The files whose bytes enter the version: every model, and the regime mixture."""
    files = {name: Path(model_dir) / manifest["models"][name]["file"] for name in MODEL_NAMES}
    files["regime_gmm"] = Path(model_dir) / manifest["regime"]["gmm_file"]
    for part in ("micro", "bars"):
        files.update({name: Path(model_dir) / file for name, file in part_files(manifest, part).items()})
    return files


def write_manifest(model_dir: Path, manifest: Mapping[str, Any]) -> Path:
    path = model_dir / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, allow_nan=True) + "\n")
    return path


def read_manifest(model_dir: Path) -> dict[str, Any]:
    """Read and check ``model_dir/manifest.json`` and the files it names; raise ManifestError."""
    model_dir = Path(model_dir)
    path = model_dir / MANIFEST_FILE
    if not path.is_file():
        raise ManifestError(f"no {MANIFEST_FILE} in model directory {model_dir}")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ManifestError(f"{path} is not valid JSON ({error})") from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"{path} must hold a JSON object, found {type(manifest).__name__}")
    if manifest.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f"{path} has format {manifest.get('format')!r}, expected {MANIFEST_FORMAT!r}")

    _require(manifest, path, "version", str)
    feature_names = _require_names(manifest, path, "feature_names")
    if len(set(feature_names)) != len(feature_names):
        raise ManifestError(f"{path} lists a feature name twice in feature_names")
    _require(manifest, path, "horizon_ns", int)
    horizons = _require(manifest, path, "horizons", dict)
    if not isinstance(horizons.get("volatility_ns"), int) or horizons["volatility_ns"] <= 0:
        raise ManifestError(f"{path} needs a positive int horizons.volatility_ns, found {horizons.get('volatility_ns')!r}")
    _require(manifest, path, "dead_zone", float)
    models = _require(manifest, path, "models", dict)
    for name in MODEL_NAMES:
        entry = models.get(name)
        if not isinstance(entry, dict):
            raise ManifestError(f"{path} has no entry for model {name!r} under 'models'")
        file = model_dir / str(entry.get("file", ""))
        if not entry.get("file") or not file.is_file():
            raise ManifestError(f"model file {entry.get('file')!r} for {name!r} named in {path} does not exist")
        unknown = sorted(set(_require_names(entry, path, "features")) - set(feature_names))
        if unknown:
            raise ManifestError(f"model {name!r} in {path} uses features {unknown} that are not in feature_names")
    _require_names(models["meta"], path, "inputs")
    weighted = _require(models["meta"], path, "weighted", dict)
    if not all(isinstance(v, bool) for v in weighted.values()):
        raise ManifestError(f"{path} needs models.meta.weighted as a map of specialist -> true/false, found {weighted!r}")
    calibration = _require(manifest, path, "calibration", dict)
    if calibration.get("source") not in CALIBRATION_SOURCES or not all(
            isinstance(calibration.get(k), (int, float)) and not isinstance(calibration.get(k), bool) for k in "ab"):
        raise ManifestError(f"{path} needs calibration.source in {CALIBRATION_SOURCES} and numbers a and b, "
                            f"found {calibration!r}")
    regime = _require(manifest, path, "regime", dict)
    if regime.get("labels") != list(REGIMES):
        raise ManifestError(f"{path} needs regime.labels {list(REGIMES)}, found {regime.get('labels')!r}")
    gmm_file = regime.get("gmm_file")
    if not isinstance(gmm_file, str) or not (model_dir / gmm_file).is_file():
        raise ManifestError(f"regime mixture file {gmm_file!r} named in {path} does not exist")
    for part in ("micro", "bars"):
        for name, file in part_files(manifest, part).items():
            if not (model_dir / file).is_file():
                raise ManifestError(f"model file {file!r} for {name!r} named in {path} does not exist")
    if manifest.get("micro"):
        unknown = sorted(set(_require_names(manifest["micro"], path, "feature_names")) - set(feature_names))
        if unknown:
            raise ManifestError(f"the microstructure model in {path} uses features {unknown} that are not in "
                                "feature_names")
    score = _require(manifest, path, "score", dict)
    if not isinstance(score.get("reference_volatility"), float) or score["reference_volatility"] <= 0:
        raise ManifestError(f"{path} needs a positive score.reference_volatility, found {score.get('reference_volatility')!r}")

    actual = model_version(hashed_files(model_dir, manifest), feature_names, scoring_settings(manifest))
    if actual != manifest["version"]:
        raise ManifestError(
            f"model files in {model_dir} hash to {actual} but the manifest says {manifest['version']}: "
            "a file or a scoring setting was changed or copied from another version"
        )
    return manifest


def _require(mapping: Mapping[str, Any], path: Path, key: str, kind: type) -> Any:
    value = mapping.get(key)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ManifestError(f"{path} needs {key!r} as {kind.__name__}, found {value!r}")
    return value


def _require_names(mapping: Mapping[str, Any], path: Path, key: str) -> list[str]:
    names = mapping.get(key)
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise ManifestError(f"{path} needs {key!r} as a list of non-empty strings, found {names!r}")
    return names
