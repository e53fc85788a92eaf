"""``tickwise models``: the MLflow registry for people who do not use the MLflow UI.

    tickwise models list
    tickwise models show 3            # or: champion, @champion, models:/tickwise-ensemble/3
    tickwise models promote 3 --alias champion
    tickwise models export-onnx champion --out onnx/     # or a version, or a model directory

The registry is ``MLFLOW_TRACKING_URI`` when set, else the embedded SQLite store in
``TICKWISE_MLFLOW_DIR`` (``.tickwise/mlflow``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dataflows.config import load_settings

models_app = typer.Typer(no_args_is_help=True, help="The model registry (MLflow): list, show, promote, export.")
console = Console(stderr=True)

VersionArg = Annotated[str, typer.Argument(help="A version number, an alias (champion) or a models:/ URI.")]


def _fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(2)


def _registry():  # -> RegistryConfig
    from dataflows.components import registry_config

    return registry_config(load_settings())


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _day(ns: str) -> str:
    return datetime.fromtimestamp(int(ns) / 1e9, tz=timezone.utc).strftime("%Y-%m-%d %H:%M") if ns.isdigit() else "?"


@models_app.command("list")
def list_models() -> None:
    """Every registered ensemble version, newest first, with its aliases."""
    from models.mlflow_registry import TAG_PREFIX, list_versions

    config = _registry()
    versions = list_versions(config)
    if not versions:
        console.print(f"no versions of {config.model_name} yet: `tickwise train` registers one")
        return
    table = Table("version", "aliases", "ensemble", "feature set", "data (UTC)", "created", title=config.model_name)
    for info in versions:
        tags = info.tags
        data = f"{_day(tags.get(TAG_PREFIX + 'data_start_ns', ''))} .. {_day(tags.get(TAG_PREFIX + 'data_end_ns', ''))}"
        table.add_row(info.version, ",".join(info.aliases), info.ensemble_version,
                      tags.get(TAG_PREFIX + "feature_set", ""), data, _when(info.created_ms))
    Console().print(table)


@models_app.command("show")
def show(version: VersionArg = "champion") -> None:
    """One version: its tags (feature set, data range and hash, libraries) and held-out metrics."""
    from models.mlflow_registry import RegistryError, get_version, ref_for, run_metrics

    config = _registry()
    try:
        info = get_version(config, ref_for(config, version))
    except RegistryError as error:
        _fail(str(error))
    table = Table("field", "value", title=f"{info.name} version {info.version}")
    table.add_row("aliases", ",".join(info.aliases))
    table.add_row("ensemble", info.ensemble_version)
    table.add_row("run", info.run_id)
    table.add_row("created", _when(info.created_ms))
    for key, value in sorted(info.tags.items()):
        table.add_row(key, value if len(value) <= 200 else value[:197] + "...")
    for key, value in sorted(run_metrics(config, info.run_id).items()):
        table.add_row(f"metric {key}", f"{value:.4f}")
    Console().print(table)


@models_app.command("promote")
def promote(
    version: Annotated[str, typer.Argument(help="The version number to promote.")],
    alias: Annotated[str, typer.Option(help="The alias to move (flows follow models:/NAME@ALIAS).")] = "champion",
) -> None:
    """Point an alias at a version; running flows that follow the alias switch at their next poll."""
    from models.mlflow_registry import RegistryError, promote as promote_version

    if not version.isdigit():
        _fail(f"expected a version number to promote, got {version!r}")
    config = _registry()
    try:
        info = promote_version(config, version, alias)
    except RegistryError as error:
        _fail(str(error))
    console.print(f"{info.name}@{alias} -> version {info.version} (ensemble {info.ensemble_version})")


@models_app.command("export-onnx")
def export_onnx(
    model: Annotated[str, typer.Argument(help="A version, an alias, a models:/ URI or a model directory.")] = "champion",
    out: Annotated[Path, typer.Option(help="Directory for the .onnx files, manifest.json and onnx.json.")] = Path("onnx"),
) -> None:
    """Export each model of an ensemble to ONNX for .NET clients (see docs/models.md)."""
    from models.mlflow_registry import RegistryError, download_version, get_version, ref_for
    from models.onnx_export import export_onnx as export

    path = Path(model).expanduser()
    if path.is_dir():
        model_dir = path
    else:
        settings = load_settings()
        from dataflows.components import registry_config

        config = registry_config(settings)
        try:
            info = get_version(config, ref_for(config, model))
            model_dir = download_version(config, info, settings.model_cache_path())
        except RegistryError as error:
            _fail(str(error))
    try:
        index = export(model_dir, out)
    except (OSError, ValueError) as error:
        _fail(f"could not export {model!r}: {error}")
    for name, entry in index["models"].items():
        console.print(f"{out / entry['file']}: input [N, {entry['input_shape'][1]}] -> {entry['output']}")
    console.print(f"ensemble {index['ensemble_version']} exported to {out}")
