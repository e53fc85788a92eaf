"""Models: ``tickwise train``, ``retrain --on-event`` and ``models list|show|promote|export-onnx``.

    tickwise models list
    tickwise models show 3            # or: champion, @champion, models:/tickwise-ensemble/3
    tickwise models promote 3 --alias champion
    tickwise models export-onnx champion --out onnx/     # or a version, or a model directory

The registry is ``MLFLOW_TRACKING_URI`` when set, else the embedded SQLite store in
``TICKWISE_MLFLOW_DIR`` (default ``<state dir>/mlflow``). On first use the shipped model
(``models/default``, what ``--model default`` runs) is registered there once, under the aliases
``default`` and (when no version holds it yet) ``champion``, so ``models show default`` names the
very model ``run --model default`` scores. A tracking server that does not accept a
connection within 5 s ends the command with one sentence and exit code 2; one that accepts and
then fails is asked at most ``MLFLOW_RETRIES`` more times, each request bounded by
``MLFLOW_REQUEST_TIMEOUT_S`` (MLflow's own defaults, 7 retries of up to 120 s, wait for minutes;
``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` and ``MLFLOW_HTTP_REQUEST_TIMEOUT`` still win when set).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.table import Table

from dataflows.cli.common import (STATE_DIR_DEFAULT, StateDir, command_settings, console, day_span, fail,
                                  plain_console, registry_dir, symbol_list)
from dataflows.cli.data import ALT_DEFAULT, read_events
from dataflows.cli.output import Format, check_format, iso_time, print_record, print_rows
from dataflows.config import Settings, load_settings

if TYPE_CHECKING:
    from models.mlflow_registry import RegistryConfig

models_app = typer.Typer(no_args_is_help=True, help="The model registry (MLflow): list, show, promote, export.")

MLFLOW_RETRIES = 1
MLFLOW_REQUEST_TIMEOUT_S = 15

VersionArg = Annotated[str, typer.Argument(help="A version number, an alias (champion) or a models:/ URI.")]


def train(
    file: Annotated[list[Path], typer.Option("--file", "-f", help="Trades/quotes CSV files to learn from.")],
    out: Annotated[Path, typer.Option(help="Where to write the model directory.")] = Path("models/trained"),
    start: Annotated[str | None, typer.Option(help="First day to use (YYYY-MM-DD, UTC).")] = None,
    end: Annotated[str | None, typer.Option(help="Day after the last day to use (YYYY-MM-DD, UTC).")] = None,
    symbols: Annotated[str | None, typer.Option(help="Comma-separated symbols (default: all).")] = None,
    held_out_from: Annotated[str | None, typer.Option(
        help="Hold out every row from this day on (YYYY-MM-DD, UTC), scored once after model selection "
             "(default: the last 20% of the rows).")] = None,
    bars_hourly: Annotated[Path | None, typer.Option(
        help="Hourly bars CSV for the long-history models (with --bars-daily).")] = None,
    bars_daily: Annotated[Path | None, typer.Option(help="Daily bars CSV for the long-history models.")] = None,
    events: Annotated[bool, typer.Option("--events", help="Also the calendar, earnings and filings under --alt, "
                                                          "merged into the ticks as produce --events sends them "
                                                          "(needs TICKWISE_EVENTS).")] = False,
    alt: Annotated[Path, typer.Option(help="Alternative-data root of --events.")] = ALT_DEFAULT,
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Backfill features with the live operators, then train and validate the ensemble (and the
    microstructure specialist and long-history bar models when their data is given). With --events
    and TICKWISE_EVENTS set, the rows carry the event features and the model may use them.

    The backfilled features go to their own chDB in ``<state dir>/train`` (the live stack may hold
    ``<state dir>/chdb``); the model is registered in the state dir's registry."""
    from dataflows.backfill import backfill_and_train
    from dataflows.tickfiles import check_tick_files

    check_tick_files(file)
    start_ns, end_ns = day_span(start, end)
    held_out_from_ns = day_span(held_out_from, None)[0] if held_out_from else None
    if (bars_hourly is None) != (bars_daily is None):
        fail("the long-history models need both --bars-hourly and --bars-daily")
    for path in (bars_hourly, bars_daily):
        if path is not None and not path.is_file():
            fail(f"bar file {path} does not exist")
    alt_events = None
    if events:
        if load_settings().events.join_config() is None:
            fail("--events needs TICKWISE_EVENTS=1 (or a list of markets): without it events change no feature")
        alt_events = read_events(alt, strict=False)
    # The backfill reads its registry from the settings (TICKWISE_MLFLOW_DIR): the state dir's unless set.
    os.environ.setdefault("TICKWISE_MLFLOW_DIR", str(registry_dir(state_dir)))
    manifest = backfill_and_train(files=file, out_dir=out, state_dir=state_dir / "train", start_ns=start_ns,
                                  end_ns=end_ns, symbols=symbol_list(symbols), console=plain_console,
                                  held_out_from_ns=held_out_from_ns,
                                  bars=(bars_hourly, bars_daily) if bars_hourly and bars_daily else None,
                                  events=alt_events)
    table = Table("model", "held-out metrics", title=f"model {manifest['version']} -> {out}")
    for name, metrics in manifest["metrics"].items():
        shown = ", ".join(f"{key}={value:.4g}" for key, value in metrics.items()
                          if isinstance(value, float) and not key.startswith("baseline"))
        table.add_row(name, shown)
    console.print(table)
    typer.echo(orjson.dumps({"version": manifest["version"], "out": str(out),
                             "created_from": manifest["created_from"]}).decode())


def retrain(
    on_event: Annotated[bool, typer.Option("--on-event", help="Wait for `retrain` events on model-events.")] = False,
    file: Annotated[list[Path] | None, typer.Option("--file", "-f", help="Trades/quotes CSV files to learn from.")]
    = None,
    out: Annotated[Path, typer.Option(help="Folder for the candidate model directories.")] = Path("models/candidates"),
    start: Annotated[str | None, typer.Option(help="First day to use (YYYY-MM-DD, UTC).")] = None,
    end: Annotated[str | None, typer.Option(help="Day after the last day to use (YYYY-MM-DD, UTC).")] = None,
    symbols: Annotated[str | None, typer.Option(help="Comma-separated symbols (default: all).")] = None,
    timeout_s: Annotated[float, typer.Option("--timeout-s", help="Stop waiting after this long (0: never).")] = 0.0,
    keep_running: Annotated[bool, typer.Option("--keep-running", help="Keep serving events after a training.")]
    = False,
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Train a candidate model when the live monitor raises a `retrain` event (never promotes it)."""
    from dataflows.retrain import retrain_on_events
    from dataflows.tickfiles import check_tick_files

    if not on_event:
        fail("retrain runs on events only: pass --on-event (use `tickwise train` to train now)")
    if not file:
        fail("retrain needs the tick files to learn from: pass --file (one or more)")
    check_tick_files(file)
    start_ns, end_ns = day_span(start, end)
    settings = command_settings(state_dir)
    trained = retrain_on_events(settings.kafka.bootstrap, settings.kafka.model_events_topic, list(file), out,
                                state_dir / "train", start_ns, end_ns, symbol_list(symbols),
                                plain_console, extra=settings.kafka.options(), timeout_s=timeout_s,
                                once=not keep_running)
    console.print(f"retrain: {len(trained)} candidate(s) trained" + (f": {', '.join(map(str, trained))}"
                                                                     if trained else ""))


def _registry_settings(state_dir: Path) -> Settings:
    """The settings of a registry command: the state dir's embedded registry unless the environment
    names one (``MLFLOW_TRACKING_URI`` or ``TICKWISE_MLFLOW_DIR``)."""
    mlflow_dir = None if "TICKWISE_MLFLOW_DIR" in os.environ else registry_dir(state_dir)
    return load_settings(model={"mlflow_dir": mlflow_dir}, run={"state_dir": state_dir})


def _registry(state_dir: Path) -> RegistryConfig:
    """The registry of the settings, checked to answer and holding the shipped model; one sentence and
    exit 2 when it does not answer."""
    from models.mlflow_registry import RegistryConfig, RegistryError, check_reachable, register_shipped
    from models.registry import DEFAULT_MODEL_DIR

    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(MLFLOW_RETRIES))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(MLFLOW_REQUEST_TIMEOUT_S))
    model = _registry_settings(state_dir).model
    if model.tracking_uri is not None:
        try:
            check_reachable(model.tracking_uri.get_secret_value())
        except RegistryError as error:
            fail(str(error))
        config = RegistryConfig(tracking_uri=model.tracking_uri.get_secret_value(), model_name=model.name)
    else:
        config = RegistryConfig.embedded(model.mlflow_dir, model.name)
    try:
        registered = register_shipped(config, DEFAULT_MODEL_DIR)
    except RegistryError as error:
        fail(str(error))
    if registered is not None:
        console.print(f"registered the shipped model ({registered.ensemble_version}) as {registered.name} version "
                      f"{registered.version}, aliases {', '.join(registered.aliases)}", soft_wrap=True)
    return config


def _when(ms: int) -> str:
    return iso_time(datetime.fromtimestamp(ms // 1000, tz=timezone.utc))


def _day(ns: str) -> str | None:
    return iso_time(int(ns)) if ns.isdigit() else None


@models_app.command("list")
def list_models(fmt: Format = "table", state_dir: StateDir = STATE_DIR_DEFAULT) -> None:
    """Every registered ensemble version, newest first, with its aliases."""
    from models.mlflow_registry import TAG_PREFIX, RegistryError, list_versions

    check_format(fmt)
    config = _registry(state_dir)
    try:
        versions = list_versions(config)
    except RegistryError as error:
        fail(str(error))
    columns = ("version", "aliases", "ensemble", "feature_set", "data_start", "data_end", "created")
    rows = [(int(info.version), ",".join(info.aliases), info.ensemble_version,
             info.tags.get(TAG_PREFIX + "feature_set", ""), _day(info.tags.get(TAG_PREFIX + "data_start_ns", "")),
             _day(info.tags.get(TAG_PREFIX + "data_end_ns", "")), _when(info.created_ms)) for info in versions]
    print_rows(columns, rows, fmt, title=config.model_name)


@models_app.command("show")
def show(version: VersionArg = "default", fmt: Format = "table", state_dir: StateDir = STATE_DIR_DEFAULT) -> None:
    """One version (default: the shipped model): its tags (feature set, data range and hash, libraries) and
    held-out metrics."""
    from models.mlflow_registry import RegistryError, get_version, ref_for, run_metrics

    check_format(fmt)
    config = _registry(state_dir)
    try:
        info = get_version(config, ref_for(config, version))
    except RegistryError as error:
        fail(str(error))
    record: dict[str, object] = {"name": info.name, "version": int(info.version), "aliases": ",".join(info.aliases),
                                 "ensemble": info.ensemble_version, "run": info.run_id,
                                 "created": _when(info.created_ms)}
    record.update(sorted(info.tags.items()))
    record.update({f"metric {key}": value for key, value in sorted(run_metrics(config, info.run_id).items())})
    print_record(record, fmt, title=f"{info.name} version {info.version}")


@models_app.command("promote")
def promote(
    version: Annotated[str, typer.Argument(help="The version number to promote.")],
    alias: Annotated[str, typer.Option(help="The alias to move (flows follow models:/NAME@ALIAS).")] = "champion",
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Point an alias at a version; running flows that follow the alias switch at their next poll."""
    from models.mlflow_registry import RegistryError, promote as promote_version

    if not version.isdigit():
        fail(f"expected a version number to promote, got {version!r}")
    config = _registry(state_dir)
    try:
        info = promote_version(config, version, alias)
    except RegistryError as error:
        fail(str(error))
    console.print(f"{info.name}@{alias} -> version {info.version} (ensemble {info.ensemble_version})")


@models_app.command("export-onnx")
def export_onnx(
    model: Annotated[str, typer.Argument(help="A version, an alias, a models:/ URI or a model directory.")] = "champion",
    out: Annotated[Path, typer.Option(help="Directory for the .onnx files, manifest.json and onnx.json.")] = Path("onnx"),
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Export each model of an ensemble to ONNX for .NET clients (see docs/models.md)."""
    from models.mlflow_registry import RegistryError, download_version, get_version, ref_for
    from models.onnx_export import export_onnx as export

    path = Path(model).expanduser()
    if path.is_dir():
        model_dir = path
    else:
        config = _registry(state_dir)
        try:
            info = get_version(config, ref_for(config, model))
            model_dir = download_version(config, info, _registry_settings(state_dir).model_cache_path())
        except RegistryError as error:
            fail(str(error))
    try:
        index = export(model_dir, out)
    except (OSError, ValueError) as error:
        fail(f"could not export {model!r}: {error}")
    for name, entry in index["models"].items():
        console.print(f"{out / entry['file']}: input [N, {entry['input_shape'][1]}] -> {entry['output']}")
    console.print(f"ensemble {index['ensemble_version']} exported to {out}")
