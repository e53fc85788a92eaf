"""``tickwise book check``: rebuild every order book of raw depth captures and compare it with the
venue's own best quotes (``operators.book.check``), the tool to trust a depth feed.

Files are read in the order given: a capture that continues the previous day's file (and holds no
snapshot of its own) must follow it. The result is a table per symbol, then one JSON line with the
same figures (``--format json`` prints the JSON only, ``--format csv`` the rows only). Lines that gave no message are counted and
the first few named with their line numbers on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from dataflows.cli.common import UserError
from dataflows.cli.output import Format, check_format, print_rows

book_app = typer.Typer(no_args_is_help=True, help="Level 2 order books rebuilt from depth captures.")

COLUMNS = ("symbol", "snapshot", "delta", "quote", "trade", "gaps", "crossed", "stale_deltas", "compared",
           "matched", "match_share", "not_comparable")
SHOWN_PROBLEMS = 3


@book_app.command("check")
def check(
    file: Annotated[list[Path], typer.Option("--file", "-f", help="Raw capture (<receive_ts_ns> <json> per line, "
                                                                   "gzip or plain); repeat, in order.")],
    max_levels: Annotated[int, typer.Option(help="Levels kept a side.", min=1)] = 1_000,
    fmt: Format = "table",
) -> None:
    """Rebuild each symbol's book from snapshots and deltas and compare its top with the venue's best
    quotes at the same update id."""
    from dataflows.depthfiles import read_capture
    from operators.book.book import BookConfig
    from operators.book.check import check_books

    check_format(fmt)
    for path in file:
        if not path.is_file():
            raise UserError(f"capture file {path} does not exist")
    try:
        capture = read_capture(file)
    except (ValueError, OSError, EOFError) as error:
        raise UserError(str(error)) from None
    if capture.problems:
        shown = ", ".join(f"{p.path}:{p.line} ({p.reason})" for p in capture.problems[:SHOWN_PROBLEMS])
        typer.echo(f"skipped {len(capture.problems):,} line(s) that gave no message: {shown}", err=True)
    summaries = check_books((item.message for item in capture.items), BookConfig(max_levels=max_levels))
    result = {"files": [str(path) for path in file], "skipped_lines": len(capture.problems), "symbols": summaries}
    if fmt != "json":
        print_rows(COLUMNS, [[summary[column] for column in COLUMNS] for summary in summaries], fmt,
                   title="order books against the venue's best quotes")
    if fmt != "csv":
        typer.echo(orjson.dumps(result).decode())
