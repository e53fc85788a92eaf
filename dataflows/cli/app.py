"""The ``tickwise`` Typer app: every command registered under its name, the global options, and ``main``.

Global options come before the command: ``--version``, ``--log-level``, ``--log-format`` and
``--quiet`` (``tickwise --log-format json run``). A user error raised anywhere below a command
(``ConfigError``, ``StackError``, ``TickFileError``, ``UserError``) ends it with one sentence on
stderr and exit code 2, also when the app is invoked in-process (Typer's test runner).
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from dataflows.cli import backtest, bench, book, data, export_cli, feature_history, models, run, show_config, topics
from dataflows.cli.common import USER_ERROR_CODE, print_error
from dataflows.cli.logs import LOG_FORMATS, LOG_LEVELS, configure_logging

#: Exceptions that are the user's to fix, as (module, class): looked up only once their module is loaded, so
#: that a command which never reads tick files does not import pandas to recognise a ``TickFileError``.
USER_ERRORS = (("dataflows.config", "ConfigError"), ("dataflows.stack", "StackError"),
               ("dataflows.tickfiles", "TickFileError"), ("dataflows.cli.common", "UserError"))


def is_user_error(error: BaseException) -> bool:
    """Whether ``error`` is one of ``USER_ERRORS``."""
    loaded = (getattr(sys.modules.get(module), name, None) for module, name in USER_ERRORS)
    return any(isinstance(error, kind) for kind in loaded if kind is not None)


class _Commands(TyperGroup):
    """The command group: a user error of any command becomes one sentence and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            if not is_user_error(error):
                raise
            print_error(str(error))
            raise typer.Exit(USER_ERROR_CODE) from None


app = typer.Typer(cls=_Commands, add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="tickwise: real-time ML signals from market ticks, on Bytewax.")


def _version(shown: bool) -> None:
    if shown:
        typer.echo(f"tickwise {metadata.version('tickwise')}")
        raise typer.Exit()


def _choice(option: str, choices: tuple[str, ...]) -> Any:
    def check(value: str) -> str:
        if value.lower() not in choices:
            raise typer.BadParameter(f"expected one of {', '.join(choices)}, got {value!r}", param_hint=option)
        return value.lower()
    return check


@app.callback()
def _global_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", envvar="TICKWISE_LOG_LEVEL",
                                           callback=_choice("--log-level", LOG_LEVELS),
                                           help="debug, info, warning or error (logs go to stderr).")] = "warning",
    log_format: Annotated[str, typer.Option("--log-format", envvar="TICKWISE_LOG_FORMAT",
                                            callback=_choice("--log-format", LOG_FORMATS),
                                            help="plain (one line per record) or json (one object per line).")]
    = "plain",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """tickwise: real-time ML signals from market ticks, on Bytewax."""
    configure_logging(log_level, log_format, quiet)


app.add_typer(run.stack_app, name="stack")
app.add_typer(models.models_app, name="models")
app.command("produce")(data.produce)
app.command("run")(run.run)
app.command("demo")(run.demo)
app.command("query")(data.query)
app.add_typer(feature_history.features_app, name="features")
app.command("train")(models.train)
app.command("verify")(data.verify)
app.command("export")(export_cli.export)
app.command("replay")(backtest.replay)
app.add_typer(run.recovery_app, name="recovery")
app.add_typer(book.book_app, name="book")
app.add_typer(topics.topics_app, name="topics")
app.command("backtest")(backtest.backtest)
app.command("report")(backtest.report)
app.command("retrain")(models.retrain)
app.command("config")(show_config.show_config)
app.command("bench", context_settings=bench.CONTEXT)(bench.bench)


def main() -> None:
    """The console script."""
    app()
