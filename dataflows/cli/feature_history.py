"""``tickwise features``: a symbol's latest online features, or ``features history``, a point-in-time set.

``tickwise features IBM`` shows the latest vector in Redis (``data.features``, unchanged);
``tickwise features history --entities F`` joins, to each entity row (``symbol``, ``timestamp``
and any label columns, CSV or Parquet), the feature values known at its time. A Typer command
cannot take both a positional symbol and subcommands, so ``features`` is a group whose first
argument picks a subcommand when it names one (``history``, ``show``) and is otherwise the symbol
of ``show``: every ``tickwise features SYMBOL [options]`` line works as before, and a symbol
literally called ``history`` is shown with ``tickwise features show history``.

``history`` reads the stored features from the ClickHouse ``features`` table of the state dir,
through the same connection ``tickwise query`` uses (chDB in process, or the stack's server), and
joins them in pandas (``dataflows.point_in_time.training_set``); ``--features F`` joins a feature
file instead, ``--no-store`` none, and ``--events F`` (repeatable) adds the event features of the
shared event files. The result goes to ``--out`` (``.parquet`` or ``.csv``) or to stdout in
``--format``. A bad file (missing, wrong columns, a time that does not parse) is one sentence and
exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from dataflows.cli import data
from dataflows.cli.common import STATE_DIR_DEFAULT, StateDir, command_settings, console, fail
from dataflows.cli.output import Format, check_format, print_rows

#: The subcommand that takes a symbol; any first argument that names no subcommand goes to it.
SHOW = "show"


class _SymbolOrSubcommand(TyperGroup):
    """``features SYMBOL ...`` is ``features show SYMBOL ...``; ``features history ...`` is the subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [SHOW, *args]
        return super().parse_args(ctx, args)


features_app = typer.Typer(cls=_SymbolOrSubcommand, no_args_is_help=True, add_completion=False,
                           help="A symbol's latest online features (tickwise features SYMBOL), or a point-in-time "
                                "training set (tickwise features history).")
features_app.command(SHOW)(data.features)


@features_app.command("history")
def history(
    entities: Annotated[Path, typer.Option("--entities", help="CSV or Parquet with symbol, timestamp (ISO 8601, UTC "
                                                             "when no zone, or epoch ns) and any label columns.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the training set here (.parquet or .csv) "
                                                           "instead of printing it.")] = None,
    features: Annotated[Path | None, typer.Option("--features", help="Join this feature file (symbol, ts, "
                                                                     "features) instead of ClickHouse's table.")]
    = None,
    store: Annotated[bool, typer.Option("--store/--no-store", help="Join the features stored in ClickHouse "
                                                                    "(default, unless --features is given).")] = True,
    events: Annotated[list[Path] | None, typer.Option("--events", help="Shared event file (calendar, earnings, "
                                                                       "filings) whose event features to add; "
                                                                       "repeat for more.")] = None,
    fmt: Format = "table",
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """For each entity row, the feature values known at its time (never later): a point-in-time training set."""
    from dataflows.point_in_time import (check_output, read_entities, read_events, read_feature_file, training_set,
                                         write_frame)

    check_format(fmt)
    try:
        if out is not None:
            check_output(out)
        frame, time_column = read_entities(entities)
        feature_frame = read_feature_file(features) if features is not None else None
        event_list = read_events(events or [])
        if feature_frame is None and store:
            result = _with_store(state_dir, lambda client: training_set(frame, time_column, client=client,
                                                                        events=event_list))
        else:
            result = training_set(frame, time_column, features=feature_frame, events=event_list)
    except ValueError as error:
        fail(str(error))
    if out is not None:
        write_frame(result, out)
        console.print(f"wrote {len(result):,} rows x {len(result.columns)} columns to {out}")
    else:
        cells = result.astype(object).where(result.notna(), None)  # NaN, NaT and <NA>: an empty cell, null in JSON
        print_rows([str(name) for name in result.columns], cells.itertuples(index=False, name=None), fmt,
                   title="features known at each entity row")


def _with_store(state_dir: Path, join: Any) -> Any:
    """``join(client)`` with a client of the state dir's ClickHouse, closed after."""
    writer = data.clickhouse_writer(command_settings(state_dir))
    try:
        return join(writer.client)
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001 - a missing table, a server error: one sentence
        reason = data.root_cause(error).split(" In scope ")[0]  # ClickHouse goes on to quote the whole query
        fail(f"cannot read the stored features from the ClickHouse of {state_dir}: {reason}")
    finally:
        writer.close()
