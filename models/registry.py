"""Find a model directory from what the user typed: a path, "default", or a registry URI.

* ``default`` is ``models/default/`` inside the installed package (shipped as package data and
  trained on the real tick days with ``tickwise train``);
* a path is a model directory (``manifest.json`` + XGBoost JSON files);
* ``models:/tickwise-ensemble@champion`` (or ``models:/NAME/VERSION``) is a version of the MLflow
  registry (``models.mlflow_registry``): its ``ensemble/`` artifacts are downloaded once into a
  local cache directory, which is then loaded like any model directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from models.manifest import MANIFEST_FILE
from models.mlflow_registry import RegistryConfig, VersionInfo, download_version, get_version, is_model_uri, parse_model_uri

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default"


@dataclass(frozen=True)
class ResolvedModel:
    """A local model directory, and the registry version it came from (None for a plain directory)."""

    path: Path
    registered: VersionInfo | None = None


def resolve_model(spec: str, registry: RegistryConfig | None = None, cache_dir: Path | None = None) -> ResolvedModel:
    """Resolve ``spec`` ("default", a path, or a models:/ URI) to a local directory; raise with one sentence."""
    if is_model_uri(spec):
        if registry is None or cache_dir is None:
            raise FileNotFoundError(f"{spec!r} names a registry model but no MLflow registry is configured")
        info = get_version(registry, parse_model_uri(spec))
        return ResolvedModel(download_version(registry, info, cache_dir), info)
    return ResolvedModel(resolve_model_dir(spec))


def resolve_model_dir(spec: str, registry: RegistryConfig | None = None, cache_dir: Path | None = None) -> Path:
    """Return the model directory named by ``spec``; raise if it holds no manifest."""
    if is_model_uri(spec):
        return resolve_model(spec, registry, cache_dir).path
    if spec == "default":
        if not (DEFAULT_MODEL_DIR / MANIFEST_FILE).is_file():
            raise FileNotFoundError(
                f"the default model is not shipped yet ({DEFAULT_MODEL_DIR} has no {MANIFEST_FILE}); "
                "train one with `tickwise train` or pass a model directory"
            )
        return DEFAULT_MODEL_DIR
    path = Path(spec).expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"model directory {spec!r} does not exist")
    if not (path / MANIFEST_FILE).is_file():
        raise FileNotFoundError(f"model directory {spec!r} has no {MANIFEST_FILE}")
    return path
