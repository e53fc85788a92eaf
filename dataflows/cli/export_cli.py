"""``tickwise export``: a run's features, predictions and decisions, by UTC day, to the research archive.

Reads the ClickHouse of the state dir through the connection ``tickwise query`` uses and writes
each table's days with ``dataflows.export`` (Delta Lake or partitioned Parquet; re-exporting a day
replaces it). Prints one row per table and day: how many rows that partition now holds and where.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer

from dataflows.cli.common import STATE_DIR_DEFAULT, StateDir, command_settings, fail
from dataflows.cli.data import clickhouse_writer, root_cause
from dataflows.cli.output import print_rows


def export(
    day: Annotated[list[str], typer.Option("--day", help="UTC day YYYY-MM-DD, or a range YYYY-MM-DD..YYYY-MM-DD "
                                                         "(both ends included); repeat for more.")],
    out: Annotated[Path, typer.Option("--out", help="Archive directory: one table per exported table under it.")],
    archive_format: Annotated[str, typer.Option("--format", help="delta (a Delta Lake table) or parquet "
                                                                 "(day=YYYY-MM-DD partitions).")] = "delta",
    tables: Annotated[str, typer.Option("--tables", help="Comma-separated: features, predictions, decisions.")]
    = "features,predictions,decisions",
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Export features, predictions and risk decisions by UTC day to Delta Lake or Parquet, idempotently."""
    from dataflows.export import EXPORT_FORMATS, export_day, parse_days, parse_tables

    try:
        days, names = parse_days(day), parse_tables(tables)
    except ValueError as error:
        fail(str(error))
    if archive_format not in EXPORT_FORMATS:
        fail(f"--format: expected one of {', '.join(EXPORT_FORMATS)}, got {archive_format!r}")
    writer = clickhouse_writer(command_settings(state_dir))
    exported_at = datetime.now(timezone.utc)  # lineage: when the archive was written (wall clock, not event time)
    try:
        exported = [export_day(writer.client, name, one_day, out, archive_format, exported_at)
                    for name in names for one_day in days]
    except OSError as error:
        fail(f"cannot write the archive under {out}: {error}")
    except Exception as error:  # noqa: BLE001 - a missing table, a server error: one sentence
        fail(f"export failed: {root_cause(error)}")
    finally:
        writer.close()
    print_rows(("table", "day", "rows", "path"), [(item.table, item.day.isoformat(), item.rows, str(item.path))
                                                  for item in exported], "table", title=f"exported ({archive_format})")
