"""Operations commands of ``tickwise``: ``verify``, ``replay`` and ``recovery init``.

Registered on the main app in ``dataflows.cli``. Like every command, they read settings only
through ``dataflows.cli._settings`` (imported when a command runs, so the modules do not
import each other at load time). Each ends with one JSON line on stdout; tables go to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)

StateDir = Annotated[Path, typer.Option("--state-dir", help="Where the embedded stack and chDB data live.")]
STATE_DIR_DEFAULT = Path(".tickwise")

recovery_app = typer.Typer(no_args_is_help=True, help="Bytewax recovery directories.")


def _fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(2)


def _offsets(option: str, spec: str | None) -> dict[int, int]:
    from dataflows.sources import parse_offsets

    if spec is None:
        return {}
    try:
        return parse_offsets(spec)
    except ValueError as error:
        _fail(f"{option}: {error}")
    return {}


# -- recovery init -------------------------------------------------------------------------------


@recovery_app.command("init")
def recovery_init(
    directory: Annotated[Path, typer.Argument(help="Recovery directory to create (mode 0700).")],
    partitions: Annotated[int, typer.Option(help="Recovery partitions: at least the most workers you will "
                                                 "ever run (processes x workers).", min=1, max=4096)],
    process_index: Annotated[int | None, typer.Option(help="Keep only this process's share of the partitions "
                                                           "(a cluster whose processes have separate volumes).",
                                                      min=0)] = None,
    processes: Annotated[int, typer.Option(help="Processes the partitions were first spread over (with "
                                                 "--process-index); a later, higher index gets none.",
                                           min=1)] = 1,
) -> None:
    """Create the Bytewax recovery partitions; a directory that already has them is left as it is."""
    from dataflows.runner import init_recovery_dir, recovery_partitions

    existed = directory.exists() and bool(recovery_partitions(directory))
    try:
        found = init_recovery_dir(directory, partitions, process_index, processes)
    except OSError as error:
        _fail(f"cannot create the recovery dir {directory}: {error.strerror or error}")
    verb = "already initialized" if existed else "initialized"
    console.print(f"{directory}: {verb}, partitions {found}")
    typer.echo(orjson.dumps({"recovery_dir": str(directory), "created": not existed,
                             "partitions": found}).decode())


# -- verify ---------------------------------------------------------------------------------------


def verify(
    expect_offsets: Annotated[str | None, typer.Option(
        help="End of each partition, PARTITION:END (offsets 0..END-1) or PARTITION:START-END, comma-separated; "
             "a partition that does not reach its end is a gap.")] = None,
    topic: Annotated[str | None, typer.Option(help="Source topic to check (default: KAFKA_TICKS_TOPIC).")] = None,
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Count duplicate rows per table and find lost ticks (offset gaps in ticks + rejects); exit 1 on a gap."""
    from dataflows.cli import _settings
    from dataflows.verify import parse_expected
    from dataflows.verify import verify as run_verify
    from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter

    try:
        expected = parse_expected(expect_offsets) if expect_offsets else None
    except ValueError as error:
        _fail(f"--expect-offsets: {error}")
    settings = _settings(state_dir)
    writer = ClickHouseWriter(ClickHouseSettings(url=settings.clickhouse_url.get_secret_value()))
    try:
        client = writer.connect()
        writer.ensure_schema()
        report = run_verify(client, topic or settings.ticks_topic, expected)
    finally:
        writer.close()

    tables = Table("table", "rows", "distinct ids", "duplicate rows", "rows with FINAL", title="duplicates")
    for row in report.tables:
        final = f"{row.final_rows:,}" if not row.id_conflicts else f"[bold red]{row.final_rows:,}[/]"
        tables.add_row(row.table, f"{row.rows:,}", f"{row.distinct_ids:,}", f"{row.duplicate_rows:,}", final)
    console.print(tables)
    gaps = Table("partition", "first", "last", "offsets", "missing", "missing ranges [from, to)",
                 title=f"offsets of {report.topic} (ticks + rejects)")
    for part in report.partitions:
        shown = ", ".join(f"[{a}, {b})" for a, b in part.missing_ranges) or "-"
        gaps.add_row(str(part.partition), str(part.first), str(part.last), f"{part.offsets:,}",
                     f"[bold red]{part.missing:,}[/]" if part.missing else "0", shown)
    console.print(gaps)
    if not report.partitions:
        console.print(f"[yellow]no rows of topic {report.topic!r} in ticks or rejects[/]")
    if report.id_conflicts:
        console.print(f"[bold red]{report.id_conflicts} id(s) do not collapse with FINAL[/] (same id, "
                      "different sort key): ids are not deterministic")
    console.print("[green]ok[/]: no gap" if report.ok else f"[bold red]{report.missing_offsets:,} offset(s) lost[/]")
    typer.echo(report.json_line())
    if not report.ok:
        raise typer.Exit(1)


# -- replay ---------------------------------------------------------------------------------------


def _compare(left: Path, right: Path) -> None:
    from dataflows.replay import ReplayError, compare_replays

    try:
        diffs = compare_replays(left, right)
    except ReplayError as error:
        _fail(str(error))
    table = Table("file", str(left), str(right), "first difference", title="replay comparison")
    for diff in diffs:
        table.add_row(diff.name, str(diff.left_lines), str(diff.right_lines),
                      "-" if diff.same else f"[bold red]line {diff.first_difference}[/]")
    console.print(table)
    different = [diff for diff in diffs if not diff.same]
    for diff in different[:5]:
        console.print(f"[bold]{diff.name}[/] line {diff.first_difference}:\n  < {diff.left}\n  > {diff.right}",
                      soft_wrap=True, markup=False, highlight=False)
    typer.echo(orjson.dumps({"same": not different, "files": {
        diff.name: {"left_lines": diff.left_lines, "right_lines": diff.right_lines,
                    "first_difference": diff.first_difference, "left": diff.left, "right": diff.right}
        for diff in diffs}}, option=orjson.OPT_SORT_KEYS).decode())
    if different:
        raise typer.Exit(1)


def replay(
    from_start: Annotated[bool, typer.Option("--from-start", help="Replay every partition from its beginning.")] = False,
    from_offsets: Annotated[str | None, typer.Option(help="PARTITION:OFFSET,... to start at; only these partitions "
                                                          "are replayed.")] = None,
    to_offsets: Annotated[str | None, typer.Option(help="PARTITION:OFFSET,... to stop before (exclusive); "
                                                        "default: the end the fetch reaches.")] = None,
    out: Annotated[Path | None, typer.Option(help="Directory for the replay files (new or a previous replay).")] = None,
    model: Annotated[str | None, typer.Option(help="Model to pin (directory, 'default', or registry spec); "
                                                   "default: TICKWISE_MODEL.")] = None,
    compare: Annotated[tuple[Path, Path] | None, typer.Option(help="Compare two replay directories instead; "
                                                                    "exit 1 if they differ.")] = None,
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Re-run an offset range through the live flow with fresh state and a pinned model, into files."""
    if compare is not None:
        if from_start or from_offsets or to_offsets or out:
            _fail("--compare takes two replay directories and no other replay option")
        _compare(*compare)
        return
    if from_start == (from_offsets is not None):
        _fail("give exactly one of --from-start or --from-offsets")
    if out is None:
        _fail("--out DIR is required")
    assert out is not None
    import time

    from dataflows.cli import _settings
    from dataflows.components import build_components
    from dataflows.replay import ReplayError, ReplayRange, run_replay
    from dataflows.sources import KafkaSourceSettings, SourceError
    from sinks.metrics import MetricsRegistry

    try:
        replay_range = ReplayRange(_offsets("--from-offsets", from_offsets), _offsets("--to-offsets", to_offsets))
    except ReplayError as error:
        _fail(str(error))
    settings = _settings(state_dir, until_eof=True, model=model, metrics_port=0)
    # Resolved once (an alias becomes one version), then passed in: no live model swap during a replay.
    ensemble = build_components(settings, registry=MetricsRegistry()).ensemble
    components = build_components(settings, ensemble=ensemble, registry=MetricsRegistry())
    source = KafkaSourceSettings(bootstrap=settings.kafka_bootstrap, topic=settings.ticks_topic,
                                 batch_size=settings.source_batch_size, until_eof=True,
                                 extra=settings.kafka_options())
    started = time.monotonic()
    try:
        with console.status(f"replaying {settings.ticks_topic} with model {ensemble.version}"):
            result = run_replay(components, source, replay_range, out)
    except (ReplayError, SourceError) as error:
        _fail(str(error))
    manifest = result.manifest
    table = Table("file", "rows", title=f"replay -> {out} (model {manifest['model_version']}, "
                                        f"{time.monotonic() - started:.1f} s)")
    for name, count in manifest["counts"].items():
        table.add_row(f"{name}.jsonl", f"{count:,}")
    for partition, span in manifest["partitions"].items():
        table.add_row(f"partition {partition}", f"[{span['from']}, {span['to']}) {span['records']:,} ticks")
    console.print(table)
    typer.echo(orjson.dumps({"out": str(out), **manifest}, option=orjson.OPT_SORT_KEYS).decode())
