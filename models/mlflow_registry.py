"""The model registry is MLflow: training runs, ensemble versions, aliases, downloads.

One registered model (``tickwise-ensemble`` by default) holds the ensembles. A training run
logs, in one MLflow run of the ``tickwise`` experiment:

* params: the training configuration (``manifest["config"]``, flattened);
* metrics: the held-out metrics (``manifest["metrics"]``, as ``<model>.<metric>``);
* artifacts: ``ensemble/`` (``manifest.json`` and the XGBoost JSON files, exactly what
  ``Ensemble.load`` reads) and ``report/`` (anything else the trainer wrote: report, plots);
* each booster with the xgboost flavor (``model_format="json"``, never pickle) as a logged
  model named after it (``trend``, ``mean_reversion``, ...).

Then ``run:/ensemble`` is registered as one version of the registered model, tagged with
the ensemble version (``tw-...``), the feature-set hash and names, the training data range
and hash, the library versions and the URI of each booster's logged model. Promotion moves
an alias (``champion``); the flow follows ``models:/tickwise-ensemble@champion``.

``mlflow`` is imported lazily: a flow that scores a model directory never pays for it, and
listing the versions of an embedded registry reads its SQLite file directly (``_read_embedded``:
a few milliseconds instead of seconds to import MLflow and open its store), falling back to
MLflow's client when the file cannot be read that way.
"""

from __future__ import annotations

import json
import math
import shutil
import socket
import sqlite3
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from models.manifest import MANIFEST_FILE, read_manifest

DEFAULT_MODEL_NAME = "tickwise-ensemble"
DEFAULT_EXPERIMENT = "tickwise"
DEFAULT_ALIAS = "champion"
#: The alias of the shipped model (``models/default``), registered on first use of a registry.
SHIPPED_ALIAS = "default"
ENSEMBLE_ARTIFACT = "ensemble"
REPORT_ARTIFACT = "report"
TAG_PREFIX = "tickwise."
REPORT_SUFFIXES = (".md", ".html", ".png", ".svg", ".csv")
LIBRARIES = ("tickwise", "xgboost", "numpy", "pandas", "bytewax", "mlflow-skinny", "river")
#: Seconds to wait for an MLflow tracking server to accept a connection (``check_reachable``).
CONNECT_TIMEOUT_S = 5.0


class RegistryError(ValueError):
    """A registry request that cannot be served; the message is one sentence saying why."""


@dataclass(frozen=True)
class RegistryConfig:
    """Where the registry lives. ``artifact_location`` applies to the experiment we create
    (the embedded store keeps artifacts beside its SQLite file); a server picks its own."""

    tracking_uri: str
    artifact_location: str | None = None
    model_name: str = DEFAULT_MODEL_NAME
    experiment: str = DEFAULT_EXPERIMENT

    @classmethod
    def embedded(cls, directory: Path, model_name: str = DEFAULT_MODEL_NAME) -> RegistryConfig:
        """A local SQLite tracking store and artifact folder in ``directory``: no server."""
        directory = Path(directory).expanduser().resolve()
        directory.mkdir(parents=True, exist_ok=True)
        return cls(tracking_uri=f"sqlite:///{directory / 'mlflow.db'}",
                   artifact_location=(directory / "artifacts").as_uri(), model_name=model_name)


@dataclass(frozen=True)
class ModelRef:
    """A registered ensemble version as a ``models:/NAME/VERSION`` or ``models:/NAME@ALIAS`` URI names it."""

    name: str
    version: str | None = None
    alias: str | None = None

    @property
    def uri(self) -> str:
        return f"models:/{self.name}@{self.alias}" if self.alias else f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class VersionInfo:
    """One registered version, as ``tickwise models list/show`` prints it."""

    name: str
    version: str
    run_id: str
    ensemble_version: str
    aliases: tuple[str, ...]
    created_ms: int
    tags: dict[str, str] = field(default_factory=dict)


def is_model_uri(spec: str) -> bool:
    return spec.startswith("models:/")


def parse_model_uri(spec: str) -> ModelRef:
    """``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` -> ``ModelRef``; one sentence otherwise."""
    body = spec.removeprefix("models:/")
    if "@" in body:
        name, _, alias = body.partition("@")
        if name and alias and "/" not in name:
            return ModelRef(name=name, alias=alias)
    else:
        name, _, version = body.partition("/")
        if name and version.isdigit():
            return ModelRef(name=name, version=version)
    raise RegistryError(f"expected models:/NAME@ALIAS or models:/NAME/VERSION, got {spec!r}")


def ref_for(config: RegistryConfig, text: str) -> ModelRef:
    """What a user typed on the command line: ``3``, ``champion``, ``@champion`` or a models:/ URI."""
    if is_model_uri(text):
        return parse_model_uri(text)
    if text.isdigit():
        return ModelRef(name=config.model_name, version=text)
    alias = text.removeprefix("@")
    if not alias or not alias.replace("-", "").replace("_", "").isalnum():
        raise RegistryError(f"expected a version number, an alias or a models:/ URI, got {text!r}")
    return ModelRef(name=config.model_name, alias=alias)


def client(config: RegistryConfig):  # -> mlflow.MlflowClient
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)


def check_reachable(tracking_uri: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise ``RegistryError`` when an http(s) tracking server does not accept a connection within
    ``timeout_s``: MLflow's own client retries a refused request for minutes before it gives up."""
    parts = urlsplit(tracking_uri)
    if parts.scheme not in ("http", "https"):
        return
    try:
        address = (parts.hostname or "localhost", parts.port or (443 if parts.scheme == "https" else 80))
        with socket.create_connection(address, timeout=timeout_s):
            pass
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise RegistryError(f"cannot reach the MLflow tracking server at {_without_credentials(tracking_uri)} "
                            f"within {timeout_s:g} s: {reason}") from None


@contextmanager
def _tracking(config: RegistryConfig) -> Iterator[None]:
    """The fluent API (``mlflow.xgboost.log_model``) reads a process-wide URI and exports it as
    ``MLFLOW_TRACKING_URI``; MLflow's own helper sets both and puts both back afterwards."""
    from mlflow.tracking._tracking_service.utils import _use_tracking_uri

    with _use_tracking_uri(config.tracking_uri):
        yield


def _experiment_id(config: RegistryConfig) -> str:
    registry = client(config)
    experiment = registry.get_experiment_by_name(config.experiment)
    if experiment is not None:
        return experiment.experiment_id
    return registry.create_experiment(config.experiment, artifact_location=config.artifact_location)


# --- logging a training run ----------------------------------------------------------------------------------------


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> ``{"a.b": leaf}``; lists become comma-joined strings."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(flatten(inner, f"{prefix}{key}."))
        return out
    if isinstance(value, (list, tuple)):
        value = ",".join(str(item) for item in value)
    return {prefix.rstrip("."): value}


def model_names(manifest: Mapping[str, Any]) -> list[str]:
    """The XGBoost models of an ensemble, as its manifest lists them (format 1: four, format 2: five)."""
    return list(manifest["models"])


def library_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def version_tags(manifest: Mapping[str, Any], data_sha256: str | None) -> dict[str, str]:
    """The tags every registered ensemble version carries (the manifest has the full detail)."""
    created = manifest.get("created_from", {})
    tags = {
        "ensemble_version": manifest["version"],
        "feature_set": str(manifest.get("feature_set", "")),
        "feature_names": ",".join(manifest["feature_names"]),
        "data_start_ns": str(created.get("ts_min_ns", "")),
        "data_end_ns": str(created.get("ts_max_ns", "")),
        "data_symbols": ",".join(created.get("symbols", [])),
        "data_rows": str(created.get("rows", "")),
        "data_sha256": data_sha256 or "",
    }
    tags.update({f"lib.{name}": version for name, version in library_versions().items()})
    return {TAG_PREFIX + key: value for key, value in tags.items()}


def log_training_run(config: RegistryConfig, model_dir: Path, data_sha256: str | None = None,
                     run_name: str | None = None) -> VersionInfo:
    """Log the trained ensemble in ``model_dir`` as one MLflow run and register it as a new version."""
    import mlflow
    import mlflow.xgboost
    import xgboost as xgb

    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    tags = version_tags(manifest, data_sha256)
    requirements = [f"xgboost=={xgb.__version__}"]  # given, so MLflow does not infer them (slow)
    # ensemble/ is the whole directory (what Ensemble.load reads, and the report that goes with
    # it); the report's files are logged again under report/ so the MLflow UI shows them.
    report = [path for path in sorted(model_dir.rglob("*"))
              if path.is_file() and path.suffix.lower() in REPORT_SUFFIXES]
    with _tracking(config):
        with mlflow.start_run(experiment_id=_experiment_id(config),
                              run_name=run_name or manifest["version"]) as run:
            mlflow.set_tags(tags)
            mlflow.log_params({key: str(value) for key, value in flatten(manifest.get("config", {})).items()})
            metrics = {key: float(value) for key, value in flatten(manifest.get("metrics", {})).items()
                       if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)}
            mlflow.log_metrics(metrics)
            mlflow.log_artifacts(str(model_dir), ENSEMBLE_ARTIFACT)
            for path in report:
                inner = path.parent.relative_to(model_dir).as_posix()
                mlflow.log_artifact(str(path), REPORT_ARTIFACT if inner == "." else f"{REPORT_ARTIFACT}/{inner}")
            for name in model_names(manifest):
                booster = xgb.Booster(model_file=str(model_dir / manifest["models"][name]["file"]))
                logged = mlflow.xgboost.log_model(booster, name=name, model_format="json",
                                                  pip_requirements=requirements)
                tags[f"{TAG_PREFIX}booster.{name}"] = logged.model_uri
                mlflow.set_tag(f"{TAG_PREFIX}booster.{name}", logged.model_uri)
            artifact_uri = run.info.artifact_uri
            run_id = run.info.run_id

    registry = client(config)
    from mlflow.exceptions import MlflowException

    try:
        registry.get_registered_model(config.model_name)
    except MlflowException:
        registry.create_registered_model(
            config.model_name, description="tickwise ensembles: specialists + meta model (see ensemble/manifest.json)")
    version = registry.create_model_version(config.model_name, f"{artifact_uri}/{ENSEMBLE_ARTIFACT}", run_id,
                                            tags=tags, description=f"ensemble {manifest['version']}")
    return _info(version, ())


# --- reading the registry ------------------------------------------------------------------------------------------


def _info(version: Any, aliases: tuple[str, ...] | None = None) -> VersionInfo:
    tags = dict(version.tags or {})
    return VersionInfo(name=version.name, version=str(version.version), run_id=version.run_id or "",
                       ensemble_version=tags.get(TAG_PREFIX + "ensemble_version", ""),
                       aliases=tuple(aliases if aliases is not None else getattr(version, "aliases", ()) or ()),
                       created_ms=int(version.creation_timestamp or 0), tags=tags)


def get_version(config: RegistryConfig, ref: ModelRef) -> VersionInfo:
    """The registered version that ``ref`` names now (an alias is read at this moment)."""
    from mlflow.exceptions import MlflowException

    registry = client(config)
    try:
        if ref.alias:
            version = registry.get_model_version_by_alias(ref.name, ref.alias)
        else:
            version = registry.get_model_version(ref.name, str(ref.version))
    except MlflowException as error:
        raise RegistryError(f"the registry at {_where(config)} has no {ref.uri} ({error.error_code})") from None
    return _info(version)


def list_versions(config: RegistryConfig) -> list[VersionInfo]:
    """Every version of the registered model, newest first."""
    embedded = _read_embedded(config)
    return embedded if embedded is not None else _list_with_client(config)


def _embedded_file(config: RegistryConfig) -> Path | None:
    """The SQLite file of an embedded registry (``RegistryConfig.embedded``) when it exists."""
    if not config.tracking_uri.startswith("sqlite:///"):
        return None
    path = Path(config.tracking_uri.removeprefix("sqlite:///"))
    return path if path.is_file() else None


def _read_embedded(config: RegistryConfig) -> list[VersionInfo] | None:
    """The versions in an embedded registry's SQLite file, read-only and without MLflow (the tables of
    its model registry store); None when there is no such file or it does not read that way."""
    path = _embedded_file(config)
    if path is None:
        return None
    name = config.model_name
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            versions = db.execute("SELECT version, run_id, creation_time FROM model_versions WHERE name = ? "
                                  "AND current_stage != 'Deleted_Internal'", (name,)).fetchall()
            tags: dict[int, dict[str, str]] = {}
            for version, key, value in db.execute("SELECT version, key, value FROM model_version_tags "
                                                  "WHERE name = ?", (name,)):
                tags.setdefault(version, {})[key] = value
            aliases: dict[int, list[str]] = {}
            for version, alias in db.execute("SELECT version, alias FROM registered_model_aliases WHERE name = ?",
                                             (name,)):
                aliases.setdefault(version, []).append(alias)
    except sqlite3.Error:
        return None
    infos = [VersionInfo(name=name, version=str(version), run_id=run_id or "",
                         ensemble_version=tags.get(version, {}).get(TAG_PREFIX + "ensemble_version", ""),
                         aliases=tuple(sorted(aliases.get(version, []))), created_ms=int(created or 0),
                         tags=tags.get(version, {})) for version, run_id, created in versions]
    return sorted(infos, key=lambda info: int(info.version), reverse=True)


def _list_with_client(config: RegistryConfig) -> list[VersionInfo]:
    from mlflow.exceptions import MlflowException

    registry = client(config)
    try:
        aliases = registry.get_registered_model(config.model_name).aliases or {}
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            return []
        raise RegistryError(f"the registry at {_where(config)} failed to list {config.model_name} "
                            f"({error.error_code})") from None
    by_version: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(str(version), []).append(alias)
    versions = registry.search_model_versions(f"name = '{config.model_name}'")
    infos = [_info(v, tuple(sorted(by_version.get(str(v.version), [])))) for v in versions]
    return sorted(infos, key=lambda info: int(info.version), reverse=True)


def promote(config: RegistryConfig, version: str, alias: str = DEFAULT_ALIAS) -> VersionInfo:
    """Point ``alias`` at ``version`` (running flows that follow the alias switch to it)."""
    info = get_version(config, ModelRef(config.model_name, version=str(version)))
    client(config).set_registered_model_alias(config.model_name, alias, info.version)
    return get_version(config, ModelRef(config.model_name, alias=alias))


def register_shipped(config: RegistryConfig, model_dir: Path) -> VersionInfo | None:
    """Register the shipped model in ``model_dir`` once: the version holding its ensemble gets the alias
    ``default`` (and ``champion`` when no version holds that). Returns the new version, or None when one
    was there already (its ``default`` alias is put back if it moved). Two processes registering a
    fresh registry at the same moment may both add a version; the alias then names the later one."""
    version = read_manifest(model_dir)["version"]
    existing = [info for info in list_versions(config) if info.ensemble_version == version]
    if existing:
        if not any(SHIPPED_ALIAS in info.aliases for info in existing):
            client(config).set_registered_model_alias(config.model_name, SHIPPED_ALIAS, existing[0].version)
        return None
    info = log_training_run(config, model_dir, run_name=f"shipped {version}")
    registry = client(config)
    registry.set_registered_model_alias(config.model_name, SHIPPED_ALIAS, info.version)
    aliases = registry.get_registered_model(config.model_name).aliases or {}
    if DEFAULT_ALIAS not in aliases:
        registry.set_registered_model_alias(config.model_name, DEFAULT_ALIAS, info.version)
    return get_version(config, ModelRef(config.model_name, version=info.version))


def run_metrics(config: RegistryConfig, run_id: str) -> dict[str, float]:
    return dict(client(config).get_run(run_id).data.metrics)


def download_version(config: RegistryConfig, info: VersionInfo, cache_dir: Path) -> Path:
    """The version's ensemble directory in ``cache_dir`` (downloaded once, then reused).

    Downloads go to a temporary folder renamed into place, so a half-finished download is
    never read, and several processes of a cluster may race without harm.
    """
    import mlflow

    target = Path(cache_dir) / info.name / info.version
    if _cached(target, info):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{info.version}-", dir=target.parent))
    try:
        path = mlflow.artifacts.download_artifacts(run_id=info.run_id, artifact_path=ENSEMBLE_ARTIFACT,
                                                   dst_path=str(staging), tracking_uri=config.tracking_uri)
        if target.exists() and not _cached(target, info):
            shutil.rmtree(target, ignore_errors=True)
        try:
            Path(path).rename(target)
        except OSError:
            if not _cached(target, info):  # another process won the race with the same files, or not
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _cached(target: Path, info: VersionInfo) -> bool:
    manifest = target / MANIFEST_FILE
    if not manifest.is_file():
        return False
    try:
        return json.loads(manifest.read_text()).get("version") == info.ensemble_version
    except json.JSONDecodeError:
        return False


def _where(config: RegistryConfig) -> str:
    return _without_credentials(config.tracking_uri)


def _without_credentials(uri: str) -> str:
    return uri.split("@")[-1] if "@" in uri else uri  # never print credentials in a URI
