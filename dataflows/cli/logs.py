"""Where the CLI's own logs and progress go: stderr, never stdout (stdout carries results).

``--log-level`` sets the level of every logger (the client libraries' INFO lines and retry
warnings stay quiet unless ``debug`` is asked for: the command reports their failure itself);
``--log-format`` is ``plain`` (one line: time, level, logger, message) or ``json`` (one JSON
object per line, for a container's log collector). Every message passes ``sinks.redaction``
first. Progress bars show counts and rates on stderr when it is a terminal and ``--quiet`` was
not given.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

from dataflows.cli.common import console
from dataflows.logformat import LOG_FORMATS, LOG_LEVELS, configure_root

_quiet = False


class RateColumn(ProgressColumn):
    """Items per second so far (``12,345/s``), blank until there is a rate."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="progress.data.speed")


class _StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when a record comes, not as it was when the handler was made:
    a caller (a test runner, an embedding application) may swap or close the stream it saw."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def configure_logging(level: str, fmt: str, quiet: bool) -> None:
    """Send every log record at ``level`` or above to stderr in ``fmt``; ``quiet`` hides progress bars."""
    global _quiet
    _quiet = quiet
    # MLflow installs its own INFO handler on import unless told not to; then ours applies to it too.
    os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")
    configure_root(_StderrHandler(), level, fmt)
    # The flow processes a command starts (worker logs) log at the same level and in the same format.
    os.environ["TICKWISE_LOG_LEVEL"], os.environ["TICKWISE_LOG_FORMAT"] = level, fmt


def progress_shown() -> bool:
    """Progress bars only on a terminal, and not with ``--quiet``."""
    return console.is_terminal and not _quiet


@contextmanager
def progress_bar(description: str, total: int | None, unit: str) -> Iterator[Progress]:
    """A progress bar on stderr with the count, the rate and the elapsed time (hidden when not shown);
    the caller advances task 0."""
    columns = [TextColumn(description), BarColumn(), MofNCompleteColumn(), TextColumn(unit), RateColumn(),
               TimeElapsedColumn()]
    with Progress(*columns, console=console, disable=not progress_shown(), transient=False) as progress:
        progress.add_task(description, total=total)
        yield progress
