"""Results on stdout in the form the user asks for: ``--format table|csv|json``.

``table`` is for reading: a Rich table that is never cut to 80 columns when stdout is a pipe or
a file (then it is as wide as its content needs); ``csv`` (a header row, then one row per
record) and ``json`` (an array of objects, one per row; a command with one result prints one
object) are for programs: ``pandas.read_csv`` and ``pandas.read_json`` read them as they are.
Floats are rounded to 12 significant digits in every format, so arithmetic noise
(``179.91500000000002``) never shows; cell text is printed literally, never as Rich markup.
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

FORMATS = ("table", "csv", "json")
SIGNIFICANT_DIGITS = 12
#: Width of a table written to a pipe or a file: wide enough never to wrap or cut a cell.
UNBOUNDED_WIDTH = 100_000

Format = Annotated[str, typer.Option("--format", help="table (for reading), csv or json (for programs).",
                                     show_default=True)]


def check_format(fmt: str) -> str:
    """``fmt`` if it is one of ``FORMATS``; one sentence otherwise (raised as ``typer.BadParameter``)."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"expected one of {', '.join(FORMATS)}, got {fmt!r}", param_hint="--format")
    return fmt


def clean(value: Any) -> Any:
    """A float rounded to ``SIGNIFICANT_DIGITS`` (inf/NaN as None), numpy scalars as Python ones,
    containers cleaned inside; anything else as it is."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}") if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): clean(inner) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(inner) for inner in value]
    if isinstance(value, datetime):
        return iso_time(value)
    return value


def iso_time(moment: datetime | int) -> str:
    """A datetime or epoch nanoseconds as ISO 8601 UTC with nanoseconds when there are any."""
    if isinstance(moment, datetime):
        return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    seconds, nanos = divmod(int(moment), 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z" if nanos else f"{stamp}Z"


def cell_text(value: Any) -> str:
    """How a cleaned value reads in a table or CSV cell (None: empty)."""
    value = clean(value)
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return str(value)


def stdout_console() -> Console:
    """A console on stdout: the terminal's width on a terminal, unbounded on a pipe or a file."""
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=UNBOUNDED_WIDTH)


def print_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, title: str | None = None) -> None:
    """Print ``rows`` under ``columns`` on stdout in ``fmt``."""
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([cell_text(value) for value in row] for row in rows)
    elif fmt == "json":
        records = [{name: clean(value) for name, value in zip(columns, row)} for row in rows]
        typer.echo(orjson.dumps(records).decode())
    else:
        table = Table(title=title)
        for name in columns:
            table.add_column(Text(name))
        for row in rows:
            table.add_row(*(Text(cell_text(value)) for value in row))  # Text: printed literally, never markup
        stdout_console().print(table)


def print_record(record: Mapping[str, Any], fmt: str, title: str | None = None) -> None:
    """One result (a summary, a report) on stdout: a two-column table, ``key,value`` CSV rows or one
    JSON object."""
    if fmt == "json":
        typer.echo(orjson.dumps(clean(record)).decode())
    else:
        print_rows(("field", "value"), list(record.items()), fmt, title)
