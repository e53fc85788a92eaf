"""The ``tickwise`` Typer app: every command registered under its name, and ``main``."""

from __future__ import annotations

import sys

import typer

from dataflows.cli import backtest, bench, data, models, run
from dataflows.cli.common import USER_ERROR_CODE, UserError, print_error
from dataflows.config import ConfigError
from dataflows.stack import StackError
from dataflows.tickfiles import TickFileError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="tickwise: real-time ML signals from market ticks, on Bytewax.")
app.add_typer(run.stack_app, name="stack")
app.add_typer(models.models_app, name="models")
app.command("produce")(data.produce)
app.command("run")(run.run)
app.command("demo")(run.demo)
app.command("query")(data.query)
app.command("features")(data.features)
app.command("train")(models.train)
app.command("verify")(data.verify)
app.command("replay")(backtest.replay)
app.add_typer(run.recovery_app, name="recovery")
app.command("backtest")(backtest.backtest)
app.command("report")(backtest.report)
app.command("retrain")(models.retrain)
app.command("bench", context_settings=bench.CONTEXT)(bench.bench)


def main() -> None:
    """The console script: run the app; a user error ends with one sentence and exit code 2."""
    try:
        app()
    except (ConfigError, StackError, TickFileError, UserError) as error:
        print_error(str(error))
        sys.exit(USER_ERROR_CODE)
