"""Data in and out: ``tickwise produce``, ``query``, ``features`` and ``verify``.

Tables go to stderr; ``verify`` ends with one JSON line on stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dataflows.cli.common import STATE_DIR_DEFAULT, StateDir, command_settings, console, ensure_topics, fail
from dataflows.config import Settings


def produce_files(settings: Settings, files: list[Path], rate: float | None) -> int:
    """Produce the tick files to the ticks topic with a progress bar; return how many ticks were sent."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from dataflows.produce import produce_messages
    from dataflows.tickfiles import encode_ticks, read_tick_frame

    frame = read_tick_frame(files)
    total = len(frame)
    with Progress(TextColumn("producing"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} ticks"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("produce", total=total)
        report = produce_messages(settings.kafka.bootstrap, settings.kafka.ticks_topic, encode_ticks(frame), rate,
                                  settings.kafka.options(), lambda sent: progress.update(task, completed=sent))
    console.print(f"produced {report.messages:,} ticks to {settings.kafka.ticks_topic} "
                  f"in {report.elapsed_s:.1f} s ({report.messages_per_s:,.0f}/s)")
    return report.messages


def produce(
    file: Annotated[list[Path], typer.Option("--file", "-f", help="Trades or quotes CSV (gzip or plain); repeat to merge in time order.")],
    rate: Annotated[float | None, typer.Option(help="Ticks per second (default: as fast as possible).", min=1)] = None,
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Produce real tick files to the ticks topic, merged in time order, keyed by symbol."""
    from dataflows.tickfiles import check_tick_files

    check_tick_files(file)
    settings = command_settings(state_dir)
    ensure_topics(settings)
    produce_files(settings, file, rate)


def query(
    sql: Annotated[str, typer.Argument(help="A SELECT statement against the tickwise tables.")],
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Run SQL on ClickHouse (chDB or server) and print the result."""
    from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter

    settings = command_settings(state_dir)
    writer = ClickHouseWriter(ClickHouseSettings(url=settings.clickhouse.url.get_secret_value()))
    client = writer.connect()
    try:
        result = client.query(sql)
    except Exception as error:  # noqa: BLE001 - any server error is reported as one sentence
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        fail(f"query failed: {first_line}")
    finally:
        writer.close()
    table = Table(*result.column_names)
    for row in result.result_rows:
        table.add_row(*(str(value) for value in row))
    Console().print(table)


def features(
    symbol: Annotated[str, typer.Argument(help="Symbol whose latest online features to show.")],
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Show a symbol's latest feature vector from the Redis online store."""
    import redis

    from sinks.redis_store import read_features

    settings = command_settings(state_dir)
    client = redis.Redis.from_url(settings.redis.url.get_secret_value())
    values = read_features(client, symbol, settings.redis.key_prefix)
    if not values:
        fail(f"no features stored for {symbol!r}")
    table = Table("feature", "value")
    for name, value in values.items():
        table.add_row(str(name), str(value))
    Console().print(table)


def verify(
    expect_offsets: Annotated[str | None, typer.Option(
        help="End of each partition, PARTITION:END (offsets 0..END-1) or PARTITION:START-END, comma-separated; "
             "a partition that does not reach its end is a gap.")] = None,
    topic: Annotated[str | None, typer.Option(help="Source topic to check (default: KAFKA_TICKS_TOPIC).")] = None,
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Count duplicate rows per table and find lost ticks (offset gaps in ticks + rejects); exit 1 on a gap."""
    from dataflows.verify import parse_expected
    from dataflows.verify import verify as run_verify
    from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter

    try:
        expected = parse_expected(expect_offsets) if expect_offsets else None
    except ValueError as error:
        fail(f"--expect-offsets: {error}")
    settings = command_settings(state_dir)
    writer = ClickHouseWriter(ClickHouseSettings(url=settings.clickhouse.url.get_secret_value()))
    try:
        client = writer.connect()
        writer.ensure_schema()
        report = run_verify(client, topic or settings.kafka.ticks_topic, expected)
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
